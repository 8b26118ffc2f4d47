/**
 * Wiring, once: config → logger/metrics → stores → policy → risk inputs → app → Bun.serve.
 * Signals: SIGHUP reloads the policy; SIGTERM/SIGINT drain and stop.
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
  ensureTracingHasSubscribers,
  waitForRedis,
} from "./adapters/redis/index.ts";
import { legacyKeysPresent } from "./adapters/redis/migrate-keys.ts";
import { createVigilFetch } from "./app.ts";
import { type Config, ConfigError, loadConfig } from "./config/load.ts";
import { SERVER_MAX_BODY_BYTES } from "./http/read-body.ts";
import { createBearerVerifier } from "./identity/bearer.ts";
import { memoize } from "./lib/memoize.ts";
import { CidrSet } from "./net/cidr-set.ts";
import { createLogger, drainLogger, type Logger } from "./observe/logger.ts";
import { createMetrics, type Metrics } from "./observe/metrics.ts";
import { createOidcProviders } from "./oidc/providers.ts";
import type { Stores } from "./ports.ts";
import { missingRuntimeEnv } from "./runtime-tuning.ts";
import { bootstrapFirstAdmin } from "./webauthn/enrollment.ts";

async function createStores(config: Config, logger: Logger): Promise<Stores> {
  const url = config.redis.url;
  if (!url) {
    logger.warn(
      "REDIS_URL is not set: using the in-memory store (single replica only, state is lost on restart)",
    );
    return createMemoryStores({ maxSessionsPerUser: config.session.max_per_user });
  }
  const client = createStoreClient(url, { commandTimeoutMs: config.redis.command_timeout });
  client.on("error", (error: Error) => logger.warn({ err: error.message }, "redis connection error"));
  // Serve without Redis rather than not at all: decisions that need it answer 503 (fail closed)
  // and /readyz reports it until the connection is up.
  const ready = await waitForRedis(client, 5_000).then(
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
    throw new ConfigError(refusal);
  }
  // The layout before hash tags only ever ran on one Redis, never on Cluster.
  if (
    !(client instanceof Cluster) &&
    (await legacyKeysPresent(client, config.redis.prefix).catch(() => false))
  ) {
    logger.warn("users and passkeys are still in the old Redis key layout: run `vigil migrate-keys` once");
  }
  return createRedisStores(client, config.redis.prefix, {
    maxSessionsPerUser: config.session.max_per_user,
    batching: {
      enabled: config.redis.batching,
      onUnavailable: (missing) =>
        logger.warn(
          { missing },
          "redis.batching: this ioredis lacks what the batcher needs; decision calls use plain EVALSHA",
        ),
    },
  });
}

function createPolicySource(config: Config, logger: Logger, metrics: Metrics): PolicySource {
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
  );
  source.watch();
  return source;
}

export async function start(config: Config) {
  const logger = createLogger(config.log.level);
  // Before any Redis client exists: without it ioredis traces every command under Bun.
  ensureTracingHasSubscribers();
  const metrics = createMetrics();
  const stores = await createStores(config, logger);
  const policy = createPolicySource(config, logger, metrics);
  // Secrets go to stdout only, never to the logger.
  await bootstrapFirstAdmin(
    { stores, config },
    (text) => process.stdout.write(`${text}\n`),
    Date.now(),
  ).catch((error: Error) =>
    logger.warn({ err: error.message }, "first-admin bootstrap skipped: the store did not answer"),
  );
  const ipLists = new IpListLoader(config.risk.ip_lists, {
    onReload: (result) =>
      result.ok
        ? logger.info({ list: result.name, entries: result.entries }, "ip list loaded")
        : logger.error(
            { list: result.name, err: result.error },
            "ip list reload refused; keeping the old one",
          ),
  });
  const trusted = CidrSet.parse(config.trusted_proxies);
  if (config.trusted_proxies.length === 0 && !config.publicOrigin.includes("localhost")) {
    logger.warn("trusted_proxies is empty: X-Forwarded-For is ignored and every client looks like the proxy");
  }

  // Discovery runs in the background: an unreachable IdP is a warning and is retried, never a crash.
  const oidc = config.oidc.providers.length > 0 ? createOidcProviders(config, logger) : undefined;
  const { app, fetch: vigilFetch } = createVigilFetch({
    config,
    stores,
    policy,
    ipLists,
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
    logger,
    metrics,
    oidc,
  });

  // Before "vigil listening", so a reader that has seen that line has seen this one.
  const untuned = missingRuntimeEnv();
  if (untuned.length > 0) {
    logger.warn(
      { missing: untuned },
      "started without Vigil's runtime tuning (bun start and the image set it): expect about 12 % more CPU per decision",
    );
  }
  const server = Bun.serve({
    port: config.port,
    // A backstop above every endpoint's own limit (src/http/read-body.ts): Bun refuses the rest.
    maxRequestBodySize: SERVER_MAX_BODY_BYTES,
    // /auth skips Hono's router (see createVigilFetch); every other route goes through it.
    fetch: (request, server) => vigilFetch(request, server.requestIP(request)?.address ?? ""),
  });
  logger.info(
    {
      port: server.port,
      public_url: config.public_url,
      store: stores.health.kind,
      policy: policy.current().version,
      config: config.source,
    },
    "vigil listening",
  );

  const reload = () => {
    policy.reload();
    void ipLists.reload();
  };
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining connections");
    await server.stop(false);
    policy.close();
    ipLists.close();
    oidc?.close();
    await stores.health.close();
    await drainLogger(logger); // the shutdown line is still in flight on the asynchronous destination
    process.exit(0);
  };
  process.on("SIGHUP", reload);
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  return { server, app, stores, policy, logger, metrics, stop };
}

if (import.meta.main) {
  try {
    await start(loadConfig());
  } catch (error) {
    if (error instanceof ConfigError || (error as Error).name === "PolicyError") {
      console.error(`vigil: ${(error as Error).message}`);
      process.exit(2);
    }
    throw error;
  }
}
