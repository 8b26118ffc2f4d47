/** Replay detection `replay:<key>`: SET NX PX, so the first claim within the TTL wins. */
import type { ReplayGuard } from "../../ports.ts";
import type { RedisContext } from "./context.ts";

export function createRedisReplayGuard({ client, keys }: RedisContext): ReplayGuard {
  return {
    async claim(key, ttlMs) {
      return (await client.set(keys.replay(key), "1", "PX", Math.max(1, Math.floor(ttlMs)), "NX")) === "OK";
    },
    async release(key) {
      await client.del(keys.replay(key));
    },
  };
}
