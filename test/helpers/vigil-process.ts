/**
 * A real Vigil process (`bun src/main.ts`) on a free loopback port, for tests that need main.ts's
 * own wiring, several replicas, or a process whose memory can be read from /proc. stdout (the
 * JSON log) and stderr are collected.
 */
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { RUNTIME_ENV } from "../../src/runtime-tuning.ts";
import { freeLoopbackPort } from "./free-port.ts";

export const ROOT = resolve(import.meta.dir, "../..");

export interface VigilProcess {
  url: string;
  pid: number;
  process: Subprocess;
  /** Complete stdout lines so far (pino JSON and the bootstrap message). */
  logLines(): string[];
  /** Resolves once stdout and stderr are read to their end (after the process exits). */
  outputRead: Promise<void>;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** SIGTERM (graceful), SIGKILL after 3 s. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Polled until it answers 200: /readyz (store reachable) or /healthz (process up). */
  readyPath?: "/readyz" | "/healthz";
  timeoutMs?: number;
}

export async function spawnVigilProcess(
  env: Record<string, string>,
  { readyPath = "/readyz", timeoutMs = 20_000 }: SpawnOptions = {},
): Promise<VigilProcess> {
  const port = await freeLoopbackPort();
  const child = Bun.spawn([process.execPath, "src/main.ts"], {
    cwd: ROOT,
    // Started as `bun start` and the image start it (the load test's memory check covers that).
    env: { ...process.env, ...RUNTIME_ENV, ...env, VIGIL_PORT: String(port) },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const chunks: string[] = [];
  const stdoutRead = (async () => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of child.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      chunks.push(text);
      const parts = (partial + text).split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts.filter(Boolean));
    }
  })();
  const stderrRead = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) chunks.push(decoder.decode(chunk, { stream: true }));
  })();
  // The process can exit before its last lines are read from the pipes.
  const outputRead = Promise.all([stdoutRead, stderrRead]).then(() => {});

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigil exited with ${child.exitCode}: ${chunks.join("")}`);
    const ready = await fetch(`${url}${readyPath}`)
      .then((response) => response.status === 200)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `vigil on ${port} did not answer ${readyPath} within ${timeoutMs} ms: ${chunks.join("")}`,
      );
    }
    await Bun.sleep(50);
  }
  return {
    url,
    pid: child.pid,
    process: child,
    logLines: () => lines,
    output: () => chunks.join(""),
    outputRead,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}
