/**
 * What every CLI command gets: the loaded config, the shared store (opened on first use) and the
 * admin verbs over it, and stdout/stderr writers. Commands throw CliError(exitCode, message).
 *
 * Exit codes: 0 done; 1 the operation failed (unknown user/session/passkey, store unreachable);
 * 2 usage or configuration error (including "no REDIS_URL" for commands that need the store).
 */
import { hostname, userInfo } from "node:os";
import {
  createRedisStores,
  createStoreClient,
  type RedisClient,
  waitForRedis,
} from "../adapters/redis/index.ts";
import { type AdminOperations, createAdminOperations } from "../admin/operations.ts";
import { type AuditActor, createAuditTrail } from "../audit/trail.ts";
import { type Config, loadConfig } from "../config/load.ts";
import { createLogger } from "../observe/logger.ts";
import type { Stores } from "../ports.ts";

export class CliError extends Error {
  override name = "CliError";
  constructor(
    readonly exitCode: 1 | 2,
    message: string,
  ) {
    super(message);
  }
}

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export interface CliContext extends CliIo {
  env: Record<string, string | undefined>;
  /** The validated config (throws ConfigError, reported with exit 2). */
  config(): Config;
  /** The configured shared store; CliError(2) when no REDIS_URL/redis.url is set. */
  stores(): Promise<Stores>;
  /** The Redis client behind stores() (for store maintenance such as migrate-keys). */
  redis(): Promise<RedisClient>;
  /** The admin verbs (same code as the admin API) over the store. */
  ops(): Promise<AdminOperations>;
  clock(): number;
  close(): Promise<void>;
}

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/** Who runs the CLI: the operating-system account and host (the CLI has no other identity). */
export function cliActor(): AuditActor {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (e.g. an arbitrary uid in a container)
  }
  return { actor: `cli:${user}@${hostname()}`, via: "cli", ip: "local" };
}

export function createCliContext(
  io: CliIo,
  env: Record<string, string | undefined> = process.env,
): CliContext {
  let config: Config | undefined;
  let stores: Stores | undefined;
  let redis: RedisClient | undefined;
  const getConfig = () => {
    config ??= loadConfig(env);
    return config;
  };
  const getStores = async (): Promise<Stores> => {
    if (stores) return stores;
    const cfg = getConfig();
    const url = cfg.redis.url;
    if (!url) {
      throw new CliError(
        2,
        "no store configured: set REDIS_URL (or redis.url in the config file) to the Redis the Vigil " +
          "replicas share. Without it Vigil keeps state in each server's own memory, which this CLI " +
          "cannot reach; use the admin API (/admin/*) of that server instead.",
      );
    }
    const client = createStoreClient(url, { commandTimeoutMs: Math.max(cfg.redis.command_timeout, 2_000) });
    client.on("error", () => {}); // reported below, once, instead of on every retry
    try {
      await waitForRedis(client, 3_000);
    } catch {
      client.disconnect();
      throw new CliError(1, `redis at ${redactUrl(url)} is not reachable`);
    }
    stores = createRedisStores(client, cfg.redis.prefix, {
      maxSessionsPerUser: cfg.session.max_per_user,
      auditMaxRecords: cfg.audit.max_records,
    });
    redis = client;
    return stores;
  };
  return {
    ...io,
    env,
    config: getConfig,
    stores: getStores,
    async redis() {
      await getStores();
      return redis!;
    },
    async ops() {
      const cfg = getConfig();
      const store = await getStores();
      // The CLI's changes are audited like the API's: to stderr as log lines and to the shared trail.
      const stderr = { write: (line: string) => io.err(line.trimEnd()) };
      const audit = createAuditTrail(store.audit, createLogger("info", stderr), cliActor(), Date.now);
      return createAdminOperations({ stores: store, config: cfg, clock: Date.now, audit });
    },
    clock: Date.now,
    async close() {
      if (stores) await stores.health.close().catch(() => {});
    },
  };
}
