/**
 * A real Vigil process (bun src/main.ts) for the fault tests that need main.ts's own wiring (the
 * policy reload log line and metric, the logger, Bun.serve) or a separate process whose memory can
 * be read from /proc. Loopback only; stdout (the JSON log) is collected.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { spawnVigilProcess, type VigilProcess } from "../helpers/vigil-process.ts";

export type { VigilProcess };

/** A Vigil process with a config file of its own, on the given Redis and policy, logging at info. */
export function spawnVigil(options: {
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
