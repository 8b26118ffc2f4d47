/**
 * A real Vigil process (bun src/main.ts) for the fault tests that need main.ts's own wiring (the
 * policy reload log line and metric, the logger, Bun.serve) or a separate process whose memory can
 * be read from /proc. Loopback only; stdout (the JSON log) is collected.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";

const ROOT = join(import.meta.dir, "..", "..");

export interface VigilProcess {
  url: string;
  pid: number;
  /** Every stdout line so far (pino JSON). */
  logLines(): string[];
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

export async function spawnVigil(options: {
  dir: string;
  redisUrl: string;
  policyPath: string;
  config?: string;
}): Promise<VigilProcess> {
  const port = await freePort();
  const configPath = join(options.dir, "vigil.yaml");
  writeFileSync(configPath, options.config ?? "public_url: http://auth.localhost\n");
  const child: Subprocess<"ignore", "pipe", "inherit"> = Bun.spawn([process.execPath, "src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      VIGIL_CONFIG: configPath,
      VIGIL_POLICY: options.policyPath,
      VIGIL_PORT: String(port),
      REDIS_URL: options.redisUrl,
      VIGIL_TRUSTED_PROXIES: "127.0.0.1/32",
      VIGIL_LOG_LEVEL: "info",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  let buffered = "";
  const lines: string[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      lines.push(...parts.filter(Boolean));
    }
  })();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vigil exited with ${child.exitCode}: ${lines.join("\n")}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error("vigil did not answer /healthz within 20 s");
    await Bun.sleep(50);
  }
  return {
    url,
    pid: child.pid,
    logLines: () => lines,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const exited = await Promise.race([child.exited, Bun.sleep(3_000).then(() => undefined)]);
      if (exited === undefined) {
        child.kill("SIGKILL");
        await child.exited;
      }
    },
  };
}

/** Stores on the Vigil process's Redis, under the default prefix it uses. */
export async function storesOn(redisUrl: string): Promise<{ stores: Stores; close(): void }> {
  const client = createRedisClient(redisUrl, { commandTimeoutMs: 2_000 });
  await waitForRedis(client, 5_000);
  return { stores: createRedisStores(client), close: () => client.disconnect() };
}

/** Resident set size in MiB (VmRSS). */
export async function rssMiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** The forwardAuth headers Traefik sends for a request to app.example.com. */
export function forwardHeaders(uri: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "X-Forwarded-Method": "GET",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "app.example.com",
    "X-Forwarded-Uri": uri,
    "X-Forwarded-For": "198.51.100.23",
    "User-Agent": "vigil-fault-test",
    Accept: "application/json",
    ...extra,
  };
}
