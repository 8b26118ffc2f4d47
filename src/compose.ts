/**
 * Composition: the running parts of Vigil built from its config — stores, policy, IP lists and the
 * app's dependencies. server.ts runs exactly this; the tests' in-process Vigil (test/helpers/vigil.ts)
 * builds itself from the same functions, with only what a test controls overridden.
 */
import { Cluster } from "ioredis";
import { IpListLoader } from "./adapters/files/ip-list-loader.ts";
import { PolicySource } from "./adapters/files/policy-source.ts";
import { lookupGeo } from "./adapters/geo/geoip.ts";
import { createMemoryStores } from "./adapters/memory/index.ts";
import {
  clusterModeRefusal,
  createRedisStores,
  createStoreClient,
  waitForRedis,
} from "./adapters/redis/index.ts";
import { legacyKeysPresent } from "./adapters/redis/migrate-keys.ts";
import { type Config, ConfigError } from "./config/load.ts";
import type { AppDeps } from "./http/app-env.ts";
import { createBearerVerifier } from "./identity/bearer.ts";
import { memoize } from "./lib/memoize.ts";
import { CidrSet } from "./net/cidr-set.ts";
import type { Logger } from "./observe/logger.ts";
import type { Metrics } from "./observe/metrics.ts";
import type { OidcProviders } from "./oidc/providers.ts";
import type { Policy } from "./policy/compile.ts";
import type { Stores } from "./ports.ts";

/** What the stores are built with besides the config; tests give each run its own key prefix. */
export interface StoreOptions {
  /** Redis key prefix; default config.redis.prefix. */
  prefix?: string;
}

/** The in-memory store without REDIS_URL, else the Redis stores (decisions and confirmed writes on their own clients). */
export async function createStores(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  options: StoreOptions = {},
): Promise<Stores> {
  const url = config.redis.url;
  if (!url) {
    logger.warn(
      "REDIS_URL is not set: using the in-memory store (single replica only, state is lost on restart)",
    );
    return createMemoryStores({
      maxSessionsPerUser: config.session.max_per_user,
      auditMaxRecords: config.audit.max_records,
    });
  }
  const client = createStoreClient(url, { commandTimeoutMs: config.redis.command_timeout });
  client.on("error", (error: Error) => logger.warn({ err: error.message }, "redis connection error"));
  // Security writes and their WAIT get their own client: WAIT blocks the connection it runs on.
  const writeClient = createStoreClient(url, { commandTimeoutMs: config.redis.command_timeout });
  writeClient.on("error", (error: Error) => logger.warn({ err: error.message }, "redis connection error"));
  // Serve without Redis rather than not at all: decisions that need it answer 503 (fail closed)
  // and /readyz reports it until the connection is up.
  const ready = await Promise.all([waitForRedis(client, 5_000), waitForRedis(writeClient, 5_000)]).then(
    () => true,
    () => {
      logger.error("redis is not reachable yet; answering 503 until it is");
      return false;
    },
  );
  // A plain URL to a Cluster node would serve only that node's slots: refuse to start.
  // (A server that hides INFO cannot be checked: it is taken as what the URL says.)
  const refusal = ready ? await clusterModeRefusal(client).catch(() => undefined) : undefined;
  if (refusal !== undefined) {
    client.disconnect();
    writeClient.disconnect();
    throw new ConfigError(refusal);
  }
  // The layout before hash tags only ever ran on one Redis, never on Cluster.
  if (
    !(client instanceof Cluster) &&
    (await legacyKeysPresent(client, config.redis.prefix).catch(() => false))
  ) {
    logger.warn("users and passkeys are still in the old Redis key layout: run `vigil migrate-keys` once");
  }
  const { replicas, timeout } = config.redis.write_confirmation;
  return createRedisStores(client, options.prefix ?? config.redis.prefix, {
    maxSessionsPerUser: config.session.max_per_user,
    auditMaxRecords: config.audit.max_records,
    batching: {
      enabled: config.redis.batching,
      onUnavailable: (missing) =>
        logger.warn(
          { missing },
          "redis.batching: this ioredis lacks what the batcher needs; decision calls use plain EVALSHA",
        ),
    },
    writeClient,
    writeConfirmation: { replicas, timeoutMs: timeout },
    onDemoted: (role) => logger.warn({ role }, "redis connection reached a non-primary; reconnecting"),
    onConfirmation: (result) => metrics.writeConfirmations.inc({ result }),
  });
}

/** The policy file (or the built-in sample), watched; every reload is logged and counted. */
export function createPolicySource(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  initial?: Policy,
): PolicySource {
  const source = new PolicySource(
    config.policy_path,
    { defaultMaxAgeMs: config.stepup.default_max_age },
    {
      onReload(result) {
        metrics.policyReloads.inc({ result: result.ok ? "ok" : "error" });
        if (result.ok) logger.info({ policy: result.version }, "policy loaded");
        else logger.error({ err: result.error }, "policy reload refused; the previous policy keeps serving");
      },
    },
    initial,
  );
  source.watch();
  return source;
}

/** The risk IP lists of the config, loaded now and reloaded when their files change. */
export function createIpLists(config: Config, logger: Logger): IpListLoader {
  return new IpListLoader(config.risk.ip_lists, {
    onReload: (result) =>
      result.ok
        ? logger.info({ list: result.name, entries: result.entries }, "ip list loaded")
        : logger.error(
            { list: result.name, err: result.error },
            "ip list reload refused; keeping the old one",
          ),
  });
}

/** The parts composeDeps wires together; each is built once by its owner, which also closes it. */
export interface AppParts {
  stores: Stores;
  policy: PolicySource;
  ipLists: AppDeps["ipLists"];
  logger: Logger;
  metrics: Metrics;
  oidc?: OidcProviders | undefined;
}

/** The app's dependencies from the config and its parts: what server.ts serves with. */
export function composeDeps(config: Config, parts: AppParts): AppDeps {
  const { logger } = parts;
  const trusted = CidrSet.parse(config.trusted_proxies);
  return {
    config,
    ...parts,
    // Pure lookups in static data, memoised (bounded) per client address.
    geo: memoize(lookupGeo),
    bearer:
      config.jwt.issuers.length > 0
        ? createBearerVerifier(config.jwt, {
            onReject: (reason, issuer) => logger.debug({ reason, issuer }, "bearer token refused"),
          })
        : undefined,
    isTrustedProxy: memoize((ip) => trusted.has(ip)),
    clock: Date.now,
  };
}
