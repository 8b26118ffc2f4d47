/**
 * A CLI command. To add one, write src/cli/commands/<name>.ts exporting a Command and add one line
 * to the table in src/cli/commands/index.ts.
 */
import { parseArgs } from "node:util";
import { type CliContext, CliError } from "./context.ts";

export interface Command {
  name: string;
  /** One line for `vigil help`. */
  summary: string;
  /** Argument synopsis, e.g. "<user> [--session <id>]". */
  usage: string;
  run(args: string[], ctx: CliContext): Promise<number>;
}

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/**
 * Parses a command's arguments: exactly `positionals` names (plus `optionalPositionals`), options
 * per spec. Unknown options or a wrong count are usage errors (exit 2).
 */
export function parseCommandArgs<T extends OptionSpec>(
  command: Pick<Command, "name" | "usage">,
  args: string[],
  positionals: string[],
  options: T,
  optionalPositionals = 0,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(2, `${(error as Error).message}\nusage: vigil ${command.name} ${command.usage}`);
  }
  const count = parsed.positionals.length;
  if (count < positionals.length || count > positionals.length + optionalPositionals) {
    throw new CliError(2, `usage: vigil ${command.name} ${command.usage}`);
  }
  return { positionals: parsed.positionals, values: parsed.values };
}

/** "a,b, c" → ["a","b","c"]; "" → []. */
export const splitList = (text: string | undefined): string[] =>
  (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** A plain-text table with padded columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
