/**
 * The one ioredis client a Vigil process uses. Tuned to fail closed and fast: no offline queue
 * (a command issued while disconnected rejects at once instead of waiting), a command timeout
 * (a half-dead socket cannot hang a decision), and a reconnect loop that never gives up and never
 * waits more than 500 ms, so decisions recover within about a second of Redis coming back.
 *
 * URLs: redis://[user:pass@]host:port[/db], rediss:// (TLS), and, for Sentinel,
 * redis+sentinel://[user:pass@]host1:port1,host2:port2/<master name>[/db]
 * (the credentials are the data nodes' ones; sentinels are assumed to need none).
 */
import Redis, { type RedisOptions } from "ioredis";
import { keepReconnecting } from "./keep-reconnecting.ts";
import { ensureTracingHasSubscribers } from "./tracing-channel.ts";

// Without it ioredis traces every command under Bun, listener or not (see tracing-channel.ts).
ensureTracingHasSubscribers();

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

export function createRedisClient(url: string, options: RedisClientOptions): Redis {
  const tuning: RedisOptions = {
    // The decision script has its own batching, outside auto-pipelining (turn-batcher.ts).
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
 * Resolves once the client can take commands. With the offline queue off, commands issued before
 * the first connection is ready are refused, so main.ts (and tests) wait for this at start.
 */
export function waitForRedis(client: Redis, timeoutMs: number): Promise<void> {
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
  if (!/^rediss?:\/\//.test(url)) {
    throw new Error("Redis URL must start with redis://, rediss:// or redis+sentinel://");
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
  if (credentials !== undefined) {
    const colon = credentials.indexOf(":");
    const username = colon === -1 ? "" : credentials.slice(0, colon);
    const password = colon === -1 ? credentials : credentials.slice(colon + 1);
    if (username !== "") options.username = decodeURIComponent(username);
    options.password = decodeURIComponent(password);
  }
  return options;
}
