/** Single-use values `once:<key>`: SET with PX, taken with GETDEL so only one reader gets them. */
import type { OneTimeStore } from "../../ports.ts";
import type { RedisContext } from "./context.ts";

export function createRedisOneTimeStore({ client, keys }: RedisContext): OneTimeStore {
  return {
    async put(key, value, ttlMs) {
      await client.set(keys.once(key), value, "PX", Math.max(1, Math.floor(ttlMs)));
    },
    async take(key) {
      return (await client.getdel(keys.once(key))) ?? undefined;
    },
    async peek(key) {
      return (await client.get(keys.once(key))) ?? undefined;
    },
  };
}
