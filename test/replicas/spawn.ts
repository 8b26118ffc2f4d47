/** Spawning real Vigil processes (`bun src/main.ts`) and CLI runs for multi-process tests. */
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

export const ROOT = resolve(import.meta.dir, "../..");

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? done(port) : fail(new Error("no free port"))));
    });
  });
}

/** Writes a temp file and returns its path. */
export function tempFile(name: string, text: string): string {
  const path = join(tmpdir(), `vigil-${crypto.randomUUID()}-${name}`);
  writeFileSync(path, text);
  return path;
}

export interface Replica {
  url: string;
  process: Subprocess;
  output(): string;
  stop(): Promise<void>;
}

export async function spawnReplica(env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const chunks: string[] = [];
  const child = Bun.spawn(["bun", "src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      VIGIL_LOG_LEVEL: process.env.REPLICA_LOG_LEVEL ?? "warn",
      ...env,
      VIGIL_PORT: String(port),
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  for (const stream of [child.stdout, child.stderr]) {
    void (async () => {
      for await (const chunk of stream as ReadableStream<Uint8Array>)
        chunks.push(new TextDecoder().decode(chunk));
    })();
  }
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigil exited with ${child.exitCode}: ${chunks.join("")}`);
    const ready = await fetch(`${url}/readyz`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`vigil on ${port} not ready in 20 s: ${chunks.join("")}`);
    }
    await Bun.sleep(50);
  }
  return {
    url,
    process: child,
    output: () => chunks.join(""),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
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
