/**
 * Real Vigil processes for tests: every test that starts `bun src/main.ts` or `bun src/cli.ts`
 * goes through here. `spawnVigilProcess` starts a server on a free loopback port and waits until
 * it answers (for the production start and wiring, several replicas, or a process whose memory can be read
 * from /proc); `runBun` runs a command to its exit (the CLI, or a start that must refuse);
 * `runCli` runs the CLI's own entry function in this process, as `bun src/cli.ts` would.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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
  /** Resolves once the output contains `text`; rejects after `timeoutMs`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after 3 s. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Polled until it answers 200: /readyz (store reachable) or /healthz (process up). */
  readyPath?: "/readyz" | "/healthz";
  timeoutMs?: number;
  /**
   * false: start from the environment of a newcomer's shell, without the runner's VIGIL_* and
   * REDIS_URL (so only `env` configures the child). Default true.
   */
  inheritVigilEnv?: boolean;
  /** The working directory to start in (default the repository); main.ts is named by its absolute path. */
  cwd?: string;
}

/**
 * The child's environment: the runner's (optionally without its Vigil and Redis settings), the
 * runtime setting Vigil is started with, then `env`; an undefined value removes the variable.
 */
function childEnv(env: Record<string, string | undefined>, inheritVigilEnv: boolean): Record<string, string> {
  const merged: Record<string, string | undefined> = { ...process.env, ...RUNTIME_ENV };
  if (!inheritVigilEnv)
    for (const name of Object.keys(merged))
      if (name.startsWith("VIGIL_") || name === "REDIS_URL") delete merged[name];
  Object.assign(merged, env);
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)) as Record<
    string,
    string
  >;
}

export async function spawnVigilProcess(
  env: Record<string, string | undefined>,
  { readyPath = "/readyz", timeoutMs = 20_000, inheritVigilEnv = true, cwd = ROOT }: SpawnOptions = {},
): Promise<VigilProcess> {
  const port = await freeLoopbackPort();
  const child = Bun.spawn([process.execPath, join(ROOT, "src/main.ts")], {
    cwd,
    // Started as `bun start` and the image start it (the load test's memory check covers that).
    env: childEnv({ ...env, VIGIL_PORT: String(port) }, inheritVigilEnv),
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
    async waitForOutput(text, waitMs = 5_000) {
      const until = Date.now() + waitMs;
      while (!chunks.join("").includes(text)) {
        if (Date.now() > until)
          throw new Error(`vigil did not print ${JSON.stringify(text)}: ${chunks.join("")}`);
        await Bun.sleep(20);
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await child.exited;
      clearTimeout(timer);
    },
  };
}

/** A replica of the multi-process tests: quiet logs (REPLICA_LOG_LEVEL to see them), ready on /readyz. */
export function spawnReplica(env: Record<string, string>): Promise<VigilProcess> {
  return spawnVigilProcess({ VIGIL_LOG_LEVEL: process.env.REPLICA_LOG_LEVEL ?? "warn", ...env });
}

/**
 * A Vigil process with a config file of its own (written into `dir`), on the given Redis and
 * policy, behind a loopback proxy, logging at info; ready once it listens (/healthz).
 */
export function spawnConfiguredVigil(options: {
  dir: string;
  redisUrl: string;
  policyPath: string;
  config?: string;
}): Promise<VigilProcess> {
  const configPath = join(options.dir, "vigil.yaml");
  writeFileSync(configPath, options.config ?? "public_url: http://auth.localhost\n");
  return spawnVigilProcess(
    {
      VIGIL_CONFIG: configPath,
      VIGIL_POLICY: options.policyPath,
      REDIS_URL: options.redisUrl,
      VIGIL_TRUSTED_PROXIES: "127.0.0.1/32",
      VIGIL_LOG_LEVEL: "info",
    },
    { readyPath: "/healthz" },
  );
}

export interface ExitedProcess {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bun …args` in the repository root to its exit. A run that does not stop on its own is a
 * failure too: it is killed after `timeoutMs` (its code then says so).
 */
export async function runBun(
  args: string[],
  env: Record<string, string | undefined>,
  { inheritVigilEnv = true, timeoutMs = 15_000 }: { inheritVigilEnv?: boolean; timeoutMs?: number } = {},
): Promise<ExitedProcess> {
  const child = Bun.spawn([process.execPath, ...args], {
    cwd: ROOT,
    env: childEnv(env, inheritVigilEnv),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * Runs `vigil …` as `bun src/cli.ts …` would, in this process: src/cli.ts's own runCli with the
 * runner's environment, REDIS_URL, VIGIL_CONFIG and VIGIL_ADMIN_TOKEN only when `env` gives them,
 * and what it prints collected as the process's stdout and stderr. Relative paths resolve from this
 * process's working directory (the repository under `bun test`), as runBun's do from the
 * repository. The process wrapper itself (exit code, streams) is tested through runBun in
 * test/cli/cli.test.ts.
 */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  { inheritVigilEnv = true }: { inheritVigilEnv?: boolean } = {},
): Promise<ExitedProcess> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io = {
    out: (line: string) => stdout.push(`${line}\n`),
    err: (line: string) => stderr.push(`${line}\n`),
  };
  const only = { REDIS_URL: undefined, VIGIL_CONFIG: undefined, VIGIL_ADMIN_TOKEN: undefined, ...env };
  // Loaded on first use: most files that spawn Vigil never run the CLI.
  const { runCli: runVigilCli } = await import("../../src/cli.ts");
  const code = await runVigilCli(args, io, { env: childEnv(only, inheritVigilEnv) });
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
}

/** Writes a temp file and returns its path. */
export function tempFile(name: string, text: string): string {
  const path = join(tmpdir(), `vigil-${crypto.randomUUID()}-${name}`);
  writeFileSync(path, text);
  return path;
}

/** Resident set size in MiB (VmRSS). */
export async function rssMiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
