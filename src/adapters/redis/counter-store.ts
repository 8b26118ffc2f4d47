/** Integer counters `ctr:<key>` with an expiry reset on every add (one script call). */
import type { CounterStore } from "../../ports.ts";
import type { RedisContext } from "./context.ts";

export function createRedisCounterStore({ client, keys, scripts }: RedisContext): CounterStore {
  return {
    add: (key, by, ttlMs) =>
      scripts.counterAdd(keys.counter(key), Math.trunc(by), Math.max(1, Math.floor(ttlMs))),
    async get(key) {
      return Number((await client.get(keys.counter(key))) ?? 0);
    },
    async delete(key) {
      await client.del(keys.counter(key));
    },
  };
}
