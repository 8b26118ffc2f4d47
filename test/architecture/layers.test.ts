import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { importsOf, layerViolations } from "./layers.ts";

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "vigil-layers-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("import layers", () => {
  test("src/ follows its import rules", () => {
    expect(layerViolations(resolve(import.meta.dir, "../../src"))).toEqual([]);
  });

  test("reads static, multi-line, type-only, re-exported, side-effect and dynamic imports", () => {
    const source = [
      'import { a } from "./a.ts";',
      "import {\n  b,\n  type C,\n} from './b.ts';".replaceAll("'", '"'),
      'import type { D } from "../d.ts";',
      'export { e } from "./e.ts";',
      'import "./side.ts";',
      'const f = await import("./f.ts");',
    ].join("\n");
    expect(importsOf(source)).toEqual(["./a.ts", "./b.ts", "../d.ts", "./e.ts", "./side.ts", "./f.ts"]);
  });

  test("each rule is enforced", () => {
    const root = tree({
      "core/decide.ts": 'import { x } from "../http/handler.ts";\nimport { Redis } from "ioredis";',
      "http/handler.ts": 'import { y } from "./routes.ts";',
      "http/routes.ts": 'import { z } from "./handler.ts";\nimport { app } from "../app.ts";',
      "adapters/redis.ts": 'import { h } from "../http/handler.ts";',
      "session/cookie.ts": 'import { h } from "../http/handler.ts";',
      "app.ts": 'import { r } from "./http/routes.ts";',
      "cli/explain.ts":
        'import { h } from "../http/forward-auth/handler.ts";\nimport { p } from "../http/forward-auth/request.ts";',
      "policy/ok.ts":
        'import { d } from "../core/decide.ts";\nimport { s } from "../config/schema.ts";\nimport { z } from "zod";',
    });
    try {
      const rules = layerViolations(root).map(({ from, to, rule }) => `${from} → ${to}: ${rule}`);
      expect(rules).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^core\/decide\.ts → http\/handler\.ts: the pure core imports only/),
          expect.stringMatching(/^core\/decide\.ts → ioredis: the pure core imports no I\/O/),
          expect.stringMatching(/^adapters\/redis\.ts → http\/handler\.ts: adapters never import transport/),
          expect.stringMatching(
            /^session\/cookie\.ts → http\/handler\.ts: session\/.* never import transport/,
          ),
          expect.stringMatching(/^http\/routes\.ts → app\.ts: only the composition roots/),
          expect.stringMatching(/no import cycles$/),
          expect.stringMatching(
            /^cli\/explain\.ts → http\/forward-auth\/handler\.ts: the CLI imports from http\//,
          ),
        ]),
      );
      expect(rules.some((line) => line.startsWith("cli/explain.ts → http/forward-auth/request.ts"))).toBe(
        false,
      );
      expect(rules.some((line) => line.startsWith("policy/ok.ts"))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
