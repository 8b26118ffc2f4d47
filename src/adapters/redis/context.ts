import type Redis from "ioredis";
import type { KeyLayout } from "./keys.ts";
import type { VigilScripts } from "./scripts.ts";

/** What every Redis store is built from: the shared client, the key layout and the scripts. */
export interface RedisContext {
  client: Redis;
  keys: KeyLayout;
  scripts: VigilScripts;
}
