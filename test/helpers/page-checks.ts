/**
 * What every browser test checks on every page it opens: axe-core run inside the page (no
 * serious or critical violations), no Content-Security-Policy refusals in the console, and a
 * screenshot written to a folder printed once (looked at by people, never compared by pixels).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export const SCREENSHOT_DIR = process.env.VIGIL_SCREENSHOT_DIR ?? join(tmpdir(), "vigil-screenshots");
let announced = false;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core in the page (through the DevTools protocol, so the page's CSP does not apply). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe is a global the injected source defines
    const axe = (globalThis as any).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map(
      (v: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.flatMap((n) => n.target.map(String)),
      }),
    );
  });
  return (violations as AxeViolation[]).filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** Collects the page's CSP refusals (console errors Chromium prints for them). */
export function watchCspViolations(page: Page): string[] {
  const refused: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  return refused;
}

/** Writes a full-page screenshot to SCREENSHOT_DIR/<name>.png (the folder is printed once). */
export async function screenshot(page: Page, name: string, dir = SCREENSHOT_DIR): Promise<string> {
  mkdirSync(dir, { recursive: true });
  if (!announced && dir === SCREENSHOT_DIR) {
    console.log(`screenshots: ${SCREENSHOT_DIR}`);
    announced = true;
  }
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** axe in both colour schemes, plus a screenshot of each. */
export async function checkPage(page: Page, name: string): Promise<AxeViolation[]> {
  const found: AxeViolation[] = [];
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    found.push(...(await seriousViolations(page)).map((v) => ({ ...v, id: `${scheme}: ${v.id}` })));
    await screenshot(page, `${name}-${scheme}`);
  }
  await page.emulateMedia({ colorScheme: "light" });
  return found;
}
