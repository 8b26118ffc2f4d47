/** Every text/background pair of both palettes passes WCAG AA (4.5:1 for text, 3:1 for borders). */
import { expect, test } from "bun:test";
import { DARK, LIGHT, type Palette, STYLESHEET, STYLESHEET_PATH } from "../../src/http/ui/stylesheet.ts";

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255);
  const channel = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * channel(r as number) + 0.7152 * channel(g as number) + 0.0722 * channel(b as number);
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

const TEXT: Array<[keyof Palette, keyof Palette]> = [
  ["text", "background"],
  ["text", "surface"],
  ["muted", "background"],
  ["muted", "surface"],
  ["accent", "background"],
  ["accent", "surface"],
  ["danger", "background"],
  ["danger", "surface"],
  ["ok", "background"],
  ["ok", "surface"],
  ["onAccent", "accent"],
];

for (const [name, palette] of [
  ["light", LIGHT],
  ["dark", DARK],
] as const) {
  test(`${name} theme: text passes AA (4.5:1), borders 3:1`, () => {
    for (const [fg, bg] of TEXT) {
      expect({ pair: `${fg} on ${bg}`, ratio: contrast(palette[fg], palette[bg]) >= 4.5 }).toEqual({
        pair: `${fg} on ${bg}`,
        ratio: true,
      });
    }
    expect(contrast(palette.border, palette.background)).toBeGreaterThanOrEqual(3);
  });
}

test("the stylesheet carries both palettes and its path changes with its content", () => {
  expect(STYLESHEET).toContain(`--background:${LIGHT.background}`);
  expect(STYLESHEET).toContain("@media (prefers-color-scheme:dark)");
  expect(STYLESHEET).toContain(`--danger:${DARK.danger}`);
  expect(STYLESHEET_PATH).toMatch(/^\/assets\/vigil\.[0-9a-f]{16}\.css$/);
});
