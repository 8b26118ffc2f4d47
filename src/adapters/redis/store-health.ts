/** Readiness of the Redis store (GET /readyz) and orderly shutdown of the shared client. */
import type { StoreHealth } from "../../ports.ts";
import type { RedisContext } from "./context.ts";

export function createRedisStoreHealth({ client }: RedisContext): StoreHealth {
  return {
    kind: "redis",
    async ping() {
      return (await client.ping()) === "PONG";
    },
    async close() {
      try {
        await client.quit();
      } catch {
        // Already disconnected: nothing left to flush.
        client.disconnect();
      }
    },
  };
}
