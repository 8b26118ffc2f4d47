/**
 * The Redis state adapter: every port of src/ports.ts over one shared ioredis client (see
 * client.ts for the fail-closed tuning). Build once in main.ts:
 *   const client = createRedisClient(url, { commandTimeoutMs }); await waitForRedis(client, 5000);
 *   const stores = createRedisStores(client, config.redis.prefix, { writeClient });
 * Security writes (sessions, users, passkeys) are confirmed on replicas (write-confirmation.ts)
 * on `writeClient`, a second connection, because WAIT blocks the connection it runs on.
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
import { defineScripts } from "./scripts.ts";
import { createRedisSessionStore } from "./session-store.ts";
import { reportingFailures } from "./store-failures.ts";
import { createRedisStoreHealth } from "./store-health.ts";
import { createRedisUserStore } from "./user-store.ts";
import { createWriteConfirmation, type WriteConfirmationSettings } from "./write-confirmation.ts";

export { createRedisClient, type RedisClientOptions, waitForRedis } from "./client.ts";
export { keyLayout } from "./keys.ts";
export type { WriteConfirmationSettings } from "./write-confirmation.ts";

export const DEFAULT_REDIS_PREFIX = "vigil:";

export const DEFAULT_WRITE_CONFIRMATION: WriteConfirmationSettings = { replicas: "auto", timeoutMs: 1_000 };

export interface RedisStoreOptions {
  /** The connection for security writes and their WAIT (default: `client` itself). */
  writeClient?: Redis;
  writeConfirmation?: WriteConfirmationSettings;
  /** A security write found its connection on a non-primary (logged by main.ts). */
  onDemoted?: (role: string) => void;
  /** Each security write's confirmation outcome (counted by main.ts). */
  onConfirmation?: (result: "confirmed" | "not_confirmed") => void;
}

const usesSentinel = (client: Redis): boolean => (client.options.sentinels?.length ?? 0) > 0;

export function createRedisStores(
  client: Redis,
  prefix: string = DEFAULT_REDIS_PREFIX,
  options: RedisStoreOptions = {},
): Stores {
  const keys = keyLayout(prefix);
  const writeClient = options.writeClient ?? client;
  const confirmation = createWriteConfirmation({
    ...(options.writeConfirmation ?? DEFAULT_WRITE_CONFIRMATION),
    connectionFor: () => writeClient,
    markerKeyFor: () => `${prefix}write-confirmation`,
    // Under Sentinel a primary that lists no replica is the demoted or the freshly promoted one.
    autoMinimum: usesSentinel(writeClient) ? 1 : 0,
    onDemoted: options.onDemoted,
    onResult: options.onConfirmation,
  });
  const context: RedisContext = { client, keys, scripts: defineScripts(client, keys), confirmation };
  const writes: RedisContext =
    writeClient === client
      ? context
      : { client: writeClient, keys, scripts: defineScripts(writeClient, keys), confirmation };
  const extraClients = writeClient === client ? [] : [writeClient];
  return {
    decisions: createRedisDecisionStateReader(context),
    sessions: reportingFailures(createRedisSessionStore(writes)),
    users: reportingFailures(createRedisUserStore(writes)),
    credentials: reportingFailures(createRedisCredentialStore(writes)),
    oneTime: reportingFailures(createRedisOneTimeStore(context)),
    counters: reportingFailures(createRedisCounterStore(context)),
    replay: reportingFailures(createRedisReplayGuard(context)),
    health: createRedisStoreHealth(context, { probeKey: `${prefix}readyz-probe`, extraClients }),
  };
}
