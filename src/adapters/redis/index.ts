/**
 * The Redis state adapter: every port of src/ports.ts over one shared ioredis client (see
 * client.ts for the fail-closed tuning). Build once in main.ts:
 *   const client = createRedisClient(url, { commandTimeoutMs }); await waitForRedis(client, 5000);
 *   const stores = createRedisStores(client, config.redis.prefix);
 */
import { Cluster, type default as Redis } from "ioredis";
import { DEFAULT_MAX_SESSIONS_PER_USER, type Stores } from "../../ports.ts";
import { clusterDecision } from "./cluster-decision.ts";
import type { RedisContext } from "./context.ts";
import { createRedisCounterStore } from "./counter-store.ts";
import { createRedisCredentialStore } from "./credential-store.ts";
import { type DecisionBatching, decisionScriptCall } from "./decision-caller.ts";
import { createRedisDecisionStateReader } from "./decision-state-reader.ts";
import { createRedisFederationStore } from "./federation-store.ts";
import { keyLayout } from "./keys.ts";
import { createRedisOneTimeStore } from "./one-time-store.ts";
import { createRedisReplayGuard } from "./replay-guard.ts";
import { DECISION_SCRIPTS, defineScripts } from "./scripts.ts";
import { createRedisSessionStore } from "./session-store.ts";
import { createRedisStoreHealth } from "./store-health.ts";
import { createRedisUserStore } from "./user-store.ts";

export {
  clusterModeRefusal,
  createClusterClient,
  createRedisClient,
  createStoreClient,
  type RedisClient,
  type RedisClientOptions,
  waitForRedis,
} from "./client.ts";
export type { DecisionBatching } from "./decision-caller.ts";
export { keyLayout } from "./keys.ts";
export { ensureTracingHasSubscribers } from "./tracing-channel.ts";

export const DEFAULT_REDIS_PREFIX = "vigil:";

export interface RedisStoreOptions {
  /** Most live sessions per user (config session.max_per_user); a new one revokes the oldest. */
  maxSessionsPerUser?: number;
  /** How decision calls reach one Redis (config redis.batching); default: batched. */
  batching?: DecisionBatching;
}

/** How a decision reaches Redis: one call with every key, or one per slot on Cluster. */
function decisionCalls(client: Redis | Cluster, batching: DecisionBatching): RedisContext["decision"] {
  if (client instanceof Cluster) {
    const { commandTimeout } = client.options.redisOptions ?? {};
    return clusterDecision(client, typeof commandTimeout === "number" ? commandTimeout : 500);
  }
  // One Redis (standalone or Sentinel) holds every slot.
  const whole = decisionScriptCall(client, DECISION_SCRIPTS.whole, batching);
  return ({ clientKeys, userKeys, args }) => whole([...clientKeys, ...userKeys], args);
}

export function createRedisStores(
  client: Redis | Cluster,
  prefix: string = DEFAULT_REDIS_PREFIX,
  options: RedisStoreOptions = {},
): Stores {
  const keys = keyLayout(prefix);
  const context: RedisContext = {
    client,
    keys,
    scripts: defineScripts(client),
    decision: decisionCalls(client, options.batching ?? { enabled: true }),
    maxSessionsPerUser: options.maxSessionsPerUser ?? DEFAULT_MAX_SESSIONS_PER_USER,
  };
  return {
    decisions: createRedisDecisionStateReader(context),
    sessions: createRedisSessionStore(context),
    users: createRedisUserStore(context),
    credentials: createRedisCredentialStore(context),
    oneTime: createRedisOneTimeStore(context),
    counters: createRedisCounterStore(context),
    replay: createRedisReplayGuard(context),
    federation: createRedisFederationStore(context, prefix),
    health: createRedisStoreHealth(context),
  };
}
