/**
 * Serving, once the inputs are valid (main.ts): logger/metrics → the parts (compose.ts) → app →
 * Bun.serve. Signals: SIGHUP reloads the policy; SIGTERM/SIGINT drain and stop.
 */

import { ensureTracingHasSubscribers } from "./adapters/redis/index.ts";
import { createVigilFetch } from "./app.ts";
import { composeDeps, createIpLists, createPolicySource, createStores } from "./compose.ts";
import type { Config } from "./config/load.ts";
import { SERVER_MAX_BODY_BYTES } from "./http/read-body.ts";
import { createLogger, drainLogger } from "./observe/logger.ts";
import { createMetrics } from "./observe/metrics.ts";
import { createOidcProviders } from "./oidc/providers.ts";
import type { Policy } from "./policy/compile.ts";
import { missingRuntimeEnv } from "./runtime-tuning.ts";
import { bootstrapFirstAdmin } from "./webauthn/enrollment.ts";

/** Builds Vigil from a valid config and its compiled policy, and serves it until SIGTERM/SIGINT. */
export async function start(config: Config, initialPolicy: Policy) {
  const logger = createLogger(config.log.level);
  // Before any Redis client exists: without it ioredis traces every command under Bun.
  ensureTracingHasSubscribers();
  const metrics = createMetrics();
  // First, before Redis: an unusable list stops the start (ConfigError, exit 2) having changed nothing.
  const ipLists = createIpLists(config, logger);
  const stores = await createStores(config, logger, metrics);
  const policy = createPolicySource(config, logger, metrics, initialPolicy);
  // Secrets go to stdout only, never to the logger.
  await bootstrapFirstAdmin(
    { stores, config },
    (text) => process.stdout.write(`${text}\n`),
    Date.now(),
  ).catch((error: Error) =>
    logger.warn({ err: error.message }, "first-admin bootstrap skipped: the store did not answer"),
  );
  if (config.trusted_proxies.length === 0 && !config.publicOrigin.includes("localhost")) {
    logger.warn("trusted_proxies is empty: X-Forwarded-For is ignored and every client looks like the proxy");
  }

  // Discovery runs in the background: an unreachable IdP is a warning and is retried, never a crash.
  const oidc = config.oidc.providers.length > 0 ? createOidcProviders(config, logger) : undefined;
  const { app, fetch: vigilFetch } = createVigilFetch(
    composeDeps(config, { stores, policy, ipLists, logger, metrics, oidc }),
  );

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
