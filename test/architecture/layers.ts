/**
 * The import rules of src/, checked by `bun run check` (run as a script) and by the tests:
 * - the pure core (core/, policy/, risk/, net/, lib/) imports only itself, the config schema and
 *   durations, and no package that does I/O or transport;
 * - adapters never import transport (http/, cli/);
 * - the application layer (session/, webauthn/, identity/, admin/) never imports transport;
 * - the CLI imports no HTTP module but the forwardAuth wire format (request parsing, response
 *   mapping), which `vigil explain` runs to show the exact answer;
 * - nothing imports the composition roots (main.ts, server.ts, app.ts, cli.ts) or the CLI, except those roots;
 * - no import cycles.
 * Type-only imports count: a cycle through types is still a cycle for the reader.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export interface Violation {
  from: string;
  to: string;
  rule: string;
}

const PURE = ["core/", "policy/", "risk/", "net/", "lib/"];
const PURE_ALLOWED = [...PURE, "config/schema.ts", "config/duration.ts"];
const IO_PACKAGES = [
  /^hono/,
  /^ioredis/,
  /^pino/,
  /^prom-client/,
  /^geoip-lite/,
  /^bun$/,
  /^node:(fs|net|http|child_process)/,
];
const APPLICATION = ["session/", "webauthn/", "identity/", "admin/"];
const TRANSPORT = ["http/", "cli/"];
const ROOTS = ["main.ts", "server.ts", "app.ts", "cli.ts"];
const CLI_ALLOWED_HTTP = ["http/forward-auth/request.ts", "http/forward-auth/response.ts"];

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|(?:^|\n)\s*import\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

/** Every import specifier of a source text (static, re-exports, side-effect and dynamic). */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(IMPORT)) found.push((match[1] ?? match[2] ?? match[3])!);
  return found;
}

const within = (file: string, folders: readonly string[]) =>
  folders.some((folder) => file.startsWith(folder));

/** The rules for one edge between two src-relative paths (or from a file to a package). */
export function edgeViolations(from: string, to: string, isPackage: boolean): Violation[] {
  const found: Violation[] = [];
  if (isPackage) {
    if (within(from, PURE) && IO_PACKAGES.some((pattern) => pattern.test(to)))
      found.push({ from, to, rule: "the pure core imports no I/O or transport package" });
    return found;
  }
  if (within(from, PURE) && !within(to, PURE_ALLOWED))
    found.push({
      from,
      to,
      rule: "the pure core imports only core/, policy/, risk/, net/, lib/ and the config schema",
    });
  if (from.startsWith("adapters/") && within(to, TRANSPORT))
    found.push({ from, to, rule: "adapters never import transport (http/, cli/)" });
  if (within(from, APPLICATION) && within(to, TRANSPORT))
    found.push({ from, to, rule: "session/, webauthn/, identity/ and admin/ never import transport" });
  if (from.startsWith("cli/") && to.startsWith("http/") && !CLI_ALLOWED_HTTP.includes(to))
    found.push({
      from,
      to,
      rule: "the CLI imports from http/ only the forwardAuth wire format (request.ts, response.ts)",
    });
  if (!ROOTS.includes(from) && (ROOTS.includes(to) || (to.startsWith("cli/") && !from.startsWith("cli/"))))
    found.push({
      from,
      to,
      rule: "only the composition roots (main.ts, server.ts, app.ts, cli.ts) import a root or the CLI",
    });
  return found;
}

function sourceFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((file) => /\.tsx?$/.test(file) && !file.includes("client/"))
    .map((file) => file.replaceAll("\\", "/"));
}

/** The import graph of a source folder: src-relative file → src-relative imports (and packages). */
export function importGraph(root: string): Map<string, { files: string[]; packages: string[] }> {
  const graph = new Map<string, { files: string[]; packages: string[] }>();
  for (const file of sourceFiles(root)) {
    const files: string[] = [];
    const packages: string[] = [];
    for (const specifier of importsOf(readFileSync(join(root, file), "utf8"))) {
      if (specifier.startsWith("."))
        files.push(relative(root, resolve(root, dirname(file), specifier)).replaceAll("\\", "/"));
      else packages.push(specifier);
    }
    graph.set(file, { files, packages });
  }
  return graph;
}

/** Each import cycle once, as the list of files around it. */
export function cycles(graph: Map<string, { files: string[] }>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file)?.files ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === "open") found.push(stack.slice(stack.indexOf(next)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

/** Every rule broken in a source folder. */
export function layerViolations(root: string): Violation[] {
  const graph = importGraph(root);
  const found: Violation[] = [];
  for (const [from, { files, packages }] of graph) {
    for (const to of files) found.push(...edgeViolations(from, to, false));
    for (const to of packages) found.push(...edgeViolations(from, to, true));
  }
  for (const cycle of cycles(graph))
    found.push({
      from: cycle[0]!,
      to: cycle.slice(1).concat(cycle[0]!).join(" → "),
      rule: "no import cycles",
    });
  return found;
}

if (import.meta.main) {
  const violations = layerViolations(resolve(import.meta.dir, "../../src"));
  for (const { from, to, rule } of violations) console.error(`layers: src/${from} → ${to}: ${rule}`);
  if (violations.length > 0) process.exit(1);
  console.log("layers: src/ follows its import rules");
}
