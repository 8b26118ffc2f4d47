/** Spawning real Vigil processes (`bun src/main.ts`) and CLI runs for multi-process tests. */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, spawnVigilProcess, type VigilProcess } from "../helpers/vigil-process.ts";

export { ROOT };

/** Writes a temp file and returns its path. */
export function tempFile(name: string, text: string): string {
  const path = join(tmpdir(), `vigil-${crypto.randomUUID()}-${name}`);
  writeFileSync(path, text);
  return path;
}

export type Replica = VigilProcess;

/** A replica of the multi-process tests: quiet logs (REPLICA_LOG_LEVEL to see them), ready on /readyz. */
export function spawnReplica(env: Record<string, string>): Promise<Replica> {
  return spawnVigilProcess({ VIGIL_LOG_LEVEL: process.env.REPLICA_LOG_LEVEL ?? "warn", ...env });
}

/** Runs `bun src/cli.ts …` and returns its exit code and output. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const name of ["REDIS_URL", "VIGIL_CONFIG", "VIGIL_ADMIN_TOKEN"])
    if (!(name in env)) delete merged[name];
  const clean = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const child = Bun.spawn(["bun", "src/cli.ts", ...args], {
    cwd: ROOT,
    env: clean,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}
