/**
 * `bun run vigil <command> [args]` — operate Vigil from a shell, directly against the shared store
 * (REDIS_URL or redis.url in the config file), with the same verbs as the admin API.
 * Commands live in src/cli/commands/ (one file each, listed in src/cli/commands/index.ts).
 * Exit codes: 0 done, 1 the operation failed, 2 usage or configuration error.
 */

import { AdminError } from "./admin/operations.ts";
import type { Command } from "./cli/command.ts";
import { COMMANDS } from "./cli/commands/index.ts";
import { type CliContext, CliError, type CliIo, createCliContext } from "./cli/context.ts";
import { ConfigError } from "./config/load.ts";

function helpText(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    "usage: vigil <command> [arguments]",
    "",
    "commands:",
    ...commands.map((c) =>
      `  ${c.name.padEnd(width)}  ${c.summary}\n  ${" ".repeat(width)}  vigil ${c.name} ${c.usage}`.trimEnd(),
    ),
    `  ${"help".padEnd(width)}  this text (vigil help <command> for one command)`,
    "",
    "The store is the Redis in REDIS_URL (or redis.url in VIGIL_CONFIG / ./vigil.yaml).",
    "Exit codes: 0 done, 1 operation failed, 2 usage or configuration error.",
  ].join("\n");
}

export async function runCli(
  argv: string[],
  io: CliIo,
  options: {
    env?: Record<string, string | undefined>;
    commands?: readonly Command[];
    context?: CliContext;
  } = {},
): Promise<number> {
  const commands = options.commands ?? COMMANDS;
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = commands.find((c) => c.name === args[0]);
    io.out(topic ? `vigil ${topic.name} ${topic.usage}\n  ${topic.summary}` : helpText(commands));
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`vigil: unknown command "${name}"\n\n${helpText(commands)}`);
    return 2;
  }
  const ctx = options.context ?? createCliContext(io, options.env);
  try {
    return await command.run(args, ctx);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`vigil ${name}: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof ConfigError || (error as Error).name === "PolicyError") {
      io.err(`vigil ${name}: ${(error as Error).message}`);
      return 2;
    }
    if (error instanceof AdminError) {
      io.err(`vigil ${name}: ${error.message}`);
      return error.status === 400 ? 2 : 1;
    }
    io.err(`vigil ${name}: failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await ctx.close();
  }
}

if (import.meta.main) {
  const code = await runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
  process.exit(code);
}
