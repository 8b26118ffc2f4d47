import type Redis from "ioredis";
import type { KeyLayout } from "./keys.ts";
import type { VigilScripts } from "./scripts.ts";
import type { WriteConfirmation } from "./write-confirmation.ts";

/** What every Redis store is built from: the shared client, the key layout and the scripts. */
export interface RedisContext {
  client: Redis;
  keys: KeyLayout;
  scripts: VigilScripts;
  /** Confirms security writes on replicas (write-confirmation.ts); track before, confirm after. */
  confirmation: WriteConfirmation;
}
