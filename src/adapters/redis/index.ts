/**
 * The Redis state adapter: every port of src/ports.ts over one shared ioredis client (see
 * client.ts for the fail-closed tuning). Build once in main.ts:
 *   const client = createRedisClient(url, { commandTimeoutMs }); await waitForRedis(client, 5000);
 *   const stores = createRedisStores(client, config.redis.prefix);
 */
import type Redis from "ioredis";
import type { Stores } from "../../ports.ts";
import type { RedisContext } from "./context.ts";
import { createRedisCounterStore } from "./counter-store.ts";
import { createRedisCredentialStore } from "./credential-store.ts";
import { createRedisDecisionStateReader } from "./decision-state-reader.ts";
import { keyLayout } from "./keys.ts";
import { createRedisOneTimeStore } from "./one-time-store.ts";
import { createRedisReplayGuard } from "./replay-guard.ts";
import { type DecisionBatching, defineScripts } from "./scripts.ts";
import { createRedisSessionStore } from "./session-store.ts";
import { createRedisStoreHealth } from "./store-health.ts";
import { createRedisUserStore } from "./user-store.ts";

export { createRedisClient, type RedisClientOptions, waitForRedis } from "./client.ts";
export { keyLayout } from "./keys.ts";
export type { DecisionBatching } from "./scripts.ts";
export { ensureTracingHasSubscribers } from "./tracing-channel.ts";

export const DEFAULT_REDIS_PREFIX = "vigil:";

export function createRedisStores(
  client: Redis,
  prefix: string = DEFAULT_REDIS_PREFIX,
  batching: DecisionBatching = { enabled: true },
): Stores {
  const keys = keyLayout(prefix);
  const context: RedisContext = { client, keys, scripts: defineScripts(client, keys, batching) };
  return {
    decisions: createRedisDecisionStateReader(context),
    sessions: createRedisSessionStore(context),
    users: createRedisUserStore(context),
    credentials: createRedisCredentialStore(context),
    oneTime: createRedisOneTimeStore(context),
    counters: createRedisCounterStore(context),
    replay: createRedisReplayGuard(context),
    health: createRedisStoreHealth(context),
  };
}
