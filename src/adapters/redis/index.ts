/**
 * The Redis state adapter: every port of src/ports.ts over one shared ioredis client (see
 * client.ts for the fail-closed tuning). Build once in server.ts:
 *   const client = createRedisClient(url, { commandTimeoutMs }); await waitForRedis(client, 5000);
 *   const stores = createRedisStores(client, config.redis.prefix, { writeClient });
 * Security writes (sessions, users, passkeys) are confirmed on replicas (write-confirmation.ts)
 * on `writeClient`, a second connection, because WAIT blocks the connection it runs on.
 */
import { Cluster, type default as Redis } from "ioredis";
import { DEFAULT_AUDIT_MAX_RECORDS } from "../../audit/record.ts";
import { DEFAULT_MAX_SESSIONS_PER_USER, type Stores } from "../../ports.ts";
import { createRedisAuditLog } from "./audit-log.ts";
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
import { reportingFailures } from "./store-failures.ts";
import { createRedisStoreHealth } from "./store-health.ts";
import { createRedisUserStore } from "./user-store.ts";
import { createWriteConfirmation, type WriteConfirmationSettings } from "./write-confirmation.ts";
import { markerKeyFor, writeConnectionFor } from "./write-routing.ts";

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
export type { WriteConfirmationSettings } from "./write-confirmation.ts";

export const DEFAULT_REDIS_PREFIX = "vigil:";

export const DEFAULT_WRITE_CONFIRMATION: WriteConfirmationSettings = { replicas: "auto", timeoutMs: 1_000 };

export interface RedisStoreOptions {
  /** Most live sessions per user (config session.max_per_user); a new one revokes the oldest. */
  maxSessionsPerUser?: number;
  /** How decision calls reach one Redis (config redis.batching); default: batched. */
  batching?: DecisionBatching;
  /** Records kept in the audit trail (config audit.max_records). */
  auditMaxRecords?: number;
  /**
   * The client for security writes and their WAIT (default: `client` itself): a second client of
   * the same URL, since WAIT blocks the connection it runs on. On Cluster, a second Cluster client.
   */
  writeClient?: Redis | Cluster;
  writeConfirmation?: WriteConfirmationSettings;
  /** A security write found its connection on a non-primary (logged by server.ts). */
  onDemoted?: (role: string) => void;
  /** Each security write's confirmation outcome (counted by server.ts). */
  onConfirmation?: (result: "confirmed" | "not_confirmed") => void;
}

const usesSentinel = (client: Redis | Cluster): boolean =>
  !(client instanceof Cluster) && (client.options.sentinels?.length ?? 0) > 0;

/** How a decision reaches Redis: one call with every key, or one per slot on Cluster. */
function decisionCalls(client: Redis | Cluster, batching: DecisionBatching): RedisContext["decision"] {
  if (client instanceof Cluster) {
    const { commandTimeout } = client.options.redisOptions ?? {};
    return clusterDecision(client, typeof commandTimeout === "number" ? commandTimeout : 500);
  }
  // One Redis (standalone or Sentinel) holds every slot: the script builds the other keys itself.
  const whole = decisionScriptCall(client, DECISION_SCRIPTS.whole, batching);
  return ({ clientSlot, userSlot, args }) =>
    whole(userSlot === undefined ? [`${clientSlot}rep`] : [`${clientSlot}rep`, `${userSlot}user`], args);
}

export function createRedisStores(
  client: Redis | Cluster,
  prefix: string = DEFAULT_REDIS_PREFIX,
  options: RedisStoreOptions = {},
): Stores {
  const keys = keyLayout(prefix);
  const writeClient = options.writeClient ?? client;
  const confirmation = createWriteConfirmation({
    ...(options.writeConfirmation ?? DEFAULT_WRITE_CONFIRMATION),
    connectionFor: writeConnectionFor(writeClient),
    // On Cluster the marker shares the key's slot; one Redis needs just one marker key.
    markerKeyFor: (key) =>
      writeClient instanceof Cluster ? markerKeyFor(prefix, key) : `${prefix}write-confirmation`,
    // Under Sentinel a primary that lists no replica is the demoted or the freshly promoted one.
    autoMinimum: usesSentinel(writeClient) ? 1 : 0,
    onDemoted: options.onDemoted,
    // A Cluster node that is no longer a master: the slot map is stale (the next write is redirected).
    ...(writeClient instanceof Cluster ? { leaveDemoted: () => void writeClient.refreshSlotsCache() } : {}),
    onResult: options.onConfirmation,
  });
  const context: RedisContext = {
    client,
    keys,
    scripts: defineScripts(client),
    decision: decisionCalls(client, options.batching ?? { enabled: true }),
    maxSessionsPerUser: options.maxSessionsPerUser ?? DEFAULT_MAX_SESSIONS_PER_USER,
    confirmation,
  };
  // Security writes (and the reads their scripts depend on) go over the write client.
  const writes: RedisContext =
    writeClient === client
      ? context
      : { ...context, client: writeClient, scripts: defineScripts(writeClient) };
  const extraClients = writeClient === client ? [] : [writeClient];
  return {
    decisions: createRedisDecisionStateReader(context),
    sessions: reportingFailures(createRedisSessionStore(writes)),
    users: reportingFailures(createRedisUserStore(writes)),
    credentials: reportingFailures(createRedisCredentialStore(writes)),
    oneTime: reportingFailures(createRedisOneTimeStore(context)),
    counters: reportingFailures(createRedisCounterStore(context)),
    replay: reportingFailures(createRedisReplayGuard(context)),
    federation: reportingFailures(createRedisFederationStore(writes, prefix)),
    health: createRedisStoreHealth(context, { probeKey: `${prefix}readyz-probe`, extraClients }),
    audit: reportingFailures(
      createRedisAuditLog(client, `${prefix}{audit}`, options.auditMaxRecords ?? DEFAULT_AUDIT_MAX_RECORDS),
    ),
  };
}
