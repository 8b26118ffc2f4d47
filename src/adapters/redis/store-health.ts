/**
 * Readiness of the Redis store (GET /readyz) and orderly shutdown of its clients.
 * Ready means Redis takes writes, not only PING: a Redis out of memory under `noeviction`, a
 * primary short of `min-replicas-to-write` replicas, or a node demoted to replica still answers
 * PING while refusing every decision (each decision writes its counters). A short-lived SET
 * shows all of these.
 */

import type { StoreHealth } from "../../ports.ts";
import type { RedisClient } from "./client.ts";
import type { RedisContext } from "./context.ts";

export interface StoreHealthOptions {
  /** The key the write probe sets (expires by itself within seconds). */
  probeKey: string;
  /** Other connections of the same stores, closed with the main one. */
  extraClients?: readonly RedisClient[];
}

const PROBE_TTL_MS = 10_000;

async function closeClient(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    // Already disconnected: nothing left to flush.
  }
  // Also closes what quit() leaves open: a Sentinel client's failover-detector subscriptions.
  client.disconnect();
}

export function createRedisStoreHealth(
  { client }: RedisContext,
  { probeKey, extraClients = [] }: StoreHealthOptions,
): StoreHealth {
  return {
    kind: "redis",
    /** Rejects with Redis's own reason (e.g. "OOM command not allowed…") when writes are refused. */
    async ping() {
      return (await client.set(probeKey, "1", "PX", PROBE_TTL_MS)) === "OK";
    },
    async close() {
      await Promise.all([client, ...extraClients].map(closeClient));
    },
  };
}
