/**
 * The one ioredis client a Vigil process uses. Tuned to fail closed and fast: no offline queue
 * (a command issued while disconnected rejects at once instead of waiting), a command timeout
 * (a half-dead socket cannot hang a decision), and a reconnect loop that never gives up and never
 * waits more than 500 ms, so decisions recover within about a second of Redis coming back.
 *
 * URLs: redis://[user:pass@]host:port[/db], rediss:// (TLS), for Sentinel
 * redis+sentinel://[user:pass@]host1:port1,host2:port2/<master name>[/db]
 * (the credentials are the data nodes' ones; sentinels are assumed to need none), and for Redis
 * Cluster redis+cluster://[user:pass@]host1:port1,host2:port2 (seed nodes; rediss+cluster:// for
 * TLS), served by an ioredis Cluster.
 */
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from "ioredis";
import { keepReconnecting } from "./keep-reconnecting.ts";

export interface RedisClientOptions {
  /** A command without a reply after this long rejects (config redis.command_timeout). */
  commandTimeoutMs: number;
  /** Connection errors while Redis is down (default: ignored; readiness comes from ping()). */
  onError?: (error: Error) => void;
}

const MAX_RECONNECT_DELAY_MS = 500;

/**
 * Sentinel: leave the old primary as soon as a failover is announced. Without `failoverDetector`
 * the connection to the old primary stays up after a graceful `SENTINEL FAILOVER`, and writes keep
 * landing there (and are wiped when it resyncs) until Sentinel demotes it, about 10 s later.
 */
const SENTINEL_FAILOVER_TUNING: RedisOptions = {
  failoverDetector: true,
  // The failover detector's subscriptions reconnect as fast as the data connection.
  sentinelReconnectStrategy: (times: number) => Math.min(50 * times, MAX_RECONNECT_DELAY_MS),
  sentinelCommandTimeout: 1_000,
};

/** ioredis reconnectOnError: 1 = reconnect, the failed command is still rejected (fail closed). */
export const reconnectOnReadOnly = (error: Error): 1 | false =>
  error.message.startsWith("READONLY") ? 1 : false;

/** Delay before reconnect attempt `times` (1-based): 50, 100, … capped at 500 ms, forever. */
export const reconnectDelayMs = (times: number): number => Math.min(50 * times, MAX_RECONNECT_DELAY_MS);

/** The client of a URL: one connection (standalone, Sentinel) or a Cluster client. */
export type RedisClient = Redis | Cluster;

export const isClusterUrl = (url: string): boolean => /^rediss?\+cluster:\/\//.test(url);

/** The client for any supported URL: a Cluster client for redis+cluster://, else one connection. */
export function createStoreClient(url: string, options: RedisClientOptions): RedisClient {
  return isClusterUrl(url) ? createClusterClient(url, options) : createRedisClient(url, options);
}

/** One connection: redis://, rediss:// or redis+sentinel:// (createStoreClient takes Cluster URLs too). */
export function createRedisClient(url: string, options: RedisClientOptions): Redis {
  const tuning: RedisOptions = {
    // The decision script has its own batching, outside auto-pipelining (reply-clocked-batcher.ts),
    // unless redis.batching is off or this ioredis lacks what it needs: then it is pipelined here too.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    // Per command for ioredis; the decision batches enforce the same limit with one watchdog.
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(1_000, options.commandTimeoutMs * 2),
    maxRetriesPerRequest: 1,
    retryStrategy: reconnectDelayMs,
    lazyConnect: false,
    // A node demoted to replica answers writes with READONLY: reconnect (under Sentinel, to the
    // current primary) instead of failing every write until the next disconnect.
    reconnectOnError: reconnectOnReadOnly,
  };
  const client = url.startsWith("redis+sentinel://")
    ? new Redis({ ...sentinelOptions(url), ...SENTINEL_FAILOVER_TUNING, ...tuning })
    : new Redis(checkedUrl(url), tuning);
  // Without a listener ioredis prints every reconnect failure; the URL may hold a password.
  client.on("error", options.onError ?? (() => {}));
  keepReconnecting(client);
  return client;
}

/**
 * The Cluster client: the same fail-closed tuning per node, plus redirections. MOVED and ASK are
 * followed at once and TRYAGAIN / CLUSTERDOWN retried after a short delay (during resharding or
 * a failover), all within the command time-out that the stores put around each call
 * (withDeadline in cluster-decision.ts): a slot that cannot be reached in time is an error, so
 * the decision fails closed (503), never an allow.
 */
export function createClusterClient(url: string, options: RedisClientOptions): Cluster {
  const { nodes, credentials, tls } = clusterSeeds(url);
  const clusterOptions: ClusterOptions = {
    // Off on Cluster: ioredis follows a redirection inside an auto-pipeline only when every
    // command in it got the same one, so after a resharding, batches that mix moved and unmoved
    // slots kept failing with MOVED (measured in test/replicas/cluster-resharding.test.ts).
    // Each command on its own is redirected, and the slot map refreshed, by the Cluster client.
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    // TRYAGAIN (a multi-key script while its slot is half moved) is retried every 10 ms for as
    // long as the command time-out allows; the decision's deadline bounds the whole call anyway.
    maxRedirections: Math.max(16, Math.ceil(options.commandTimeoutMs / 10)),
    retryDelayOnMoved: 0,
    retryDelayOnTryAgain: 10,
    retryDelayOnClusterDown: 50,
    retryDelayOnFailover: 50,
    clusterRetryStrategy: reconnectDelayMs,
    slotsRefreshTimeout: Math.max(1_000, options.commandTimeoutMs * 2),
    redisOptions: {
      ...credentials,
      ...(tls ? { tls: {} } : {}),
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: Math.max(1_000, options.commandTimeoutMs * 2),
      maxRetriesPerRequest: 1,
    },
  };
  const client = new Cluster(nodes, clusterOptions);
  client.on("error", options.onError ?? (() => {}));
  client.on("node error", options.onError ?? (() => {}));
  return client;
}

/** redis+cluster://[user:pass@]h1:p1,h2:p2 (rediss+cluster:// for TLS) → seed nodes and credentials. */
export function clusterSeeds(url: string): {
  nodes: Array<{ host: string; port: number }>;
  credentials: { username?: string; password?: string };
  tls: boolean;
} {
  const match = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/]+)\/?$/.exec(url);
  if (match === null) {
    throw new Error("Cluster URL must look like redis+cluster://[user:pass@]host:port,host:port");
  }
  const [, scheme, credentials, hostList] = match;
  const nodes = hostList!.split(",").map((entry) => {
    const { hostname, port } = new URL(`redis://${entry}`);
    return { host: hostname.replace(/^\[|\]$/g, ""), port: Number(port || 6379) };
  });
  return { nodes, credentials: parseCredentials(credentials), tls: scheme === "rediss" };
}

function parseCredentials(credentials: string | undefined): { username?: string; password?: string } {
  if (credentials === undefined) return {};
  const colon = credentials.indexOf(":");
  const username = colon === -1 ? "" : credentials.slice(0, colon);
  const password = colon === -1 ? credentials : credentials.slice(colon + 1);
  return {
    ...(username !== "" ? { username: decodeURIComponent(username) } : {}),
    password: decodeURIComponent(password),
  };
}

/**
 * Why a single-node client must not run against this server, or undefined when it may: a node of
 * a Redis Cluster serves only its own slots, so most keys would fail ("non local key", MOVED).
 */
export async function clusterModeRefusal(client: RedisClient): Promise<string | undefined> {
  if (client instanceof Cluster) return undefined;
  const info = await client.info("cluster");
  if (!/^cluster_enabled:1/m.test(info)) return undefined;
  return (
    "REDIS_URL points at a Redis Cluster node, but a redis:// URL talks to one node only: " +
    "use redis+cluster://host:port,host:port (the cluster's seed nodes) instead"
  );
}

/**
 * Resolves once the client can take commands. With the offline queue off, commands issued before
 * the first connection is ready are refused, so server.ts (and tests) wait for this at start.
 */
export function waitForRedis(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}

function checkedUrl(url: string): string {
  if (isClusterUrl(url)) throw new Error("a redis+cluster:// URL needs createStoreClient");
  if (!/^rediss?:\/\//.test(url)) {
    throw new Error("Redis URL must start with redis://, rediss://, redis+sentinel:// or redis+cluster://");
  }
  return url;
}

/** redis+sentinel://[user:pass@]h1:p1,h2:p2/<master>[/db] → ioredis Sentinel options. */
export function sentinelOptions(url: string): RedisOptions {
  const match = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/]+)\/([^/]+)(?:\/(\d+))?\/?$/.exec(url);
  if (match === null) {
    throw new Error(
      "Sentinel URL must look like redis+sentinel://[user:pass@]host:port,host:port/master[/db]",
    );
  }
  const [, credentials, hostList, name, db] = match;
  const sentinels = hostList!.split(",").map((entry) => {
    const { hostname, port } = new URL(`redis://${entry}`);
    return { host: hostname.replace(/^\[|\]$/g, ""), port: Number(port || 26379) };
  });
  const options: RedisOptions = { sentinels, name: decodeURIComponent(name!) };
  if (db !== undefined) options.db = Number(db);
  return { ...options, ...parseCredentials(credentials) };
}
