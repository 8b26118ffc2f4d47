/**
 * An in-process Vigil for portal tests, on a port known before the config is resolved, so the
 * portal's public URL (http://auth.vigil.localhost:<port>) is the address a browser really opens.
 * Real Redis (a throwaway redis-server, or REDIS_URL with a unique prefix).
 */
import { PolicySource } from "../../src/adapters/files/policy-source.ts";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import { type AppDeps, createApp } from "../../src/app.ts";
import { type Config, resolveConfig } from "../../src/config/load.ts";
import { CidrSet } from "../../src/net/cidr-set.ts";
import { createLogger } from "../../src/observe/logger.ts";
import { createMetrics } from "../../src/observe/metrics.ts";
import type { Stores } from "../../src/ports.ts";
import { startRedis, uniquePrefix } from "../helpers/redis-server.ts";

export const COOKIE_DOMAIN = "vigil.localhost";
export const APP_HOST = "app.vigil.localhost";

export const TEST_POLICY = `
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: admin, hosts: ["${APP_HOST}"], paths: ["/admin/**"], action: stepup, max_age: 5m }
  - { name: app, hosts: ["*.${COOKIE_DOMAIN}"], action: authenticated }
default: deny
`;

export interface Portal {
  /** Where tests reach the server directly (loopback). */
  url: string;
  port: number;
  /** The portal's public origin, as browsers and Origin headers see it. */
  origin: string;
  config: Config;
  stores: Stores;
  deps: AppDeps;
  clock: { now: number | undefined };
  logLines: string[];
  close(): Promise<void>;
}

export async function startPortal(
  options: { config?: Record<string, unknown>; policy?: string } = {},
): Promise<Portal> {
  let handler: ((request: Request, peer: string) => Response | Promise<Response>) | undefined;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request, srv) =>
      handler
        ? handler(request, srv.requestIP(request)?.address ?? "")
        : new Response("starting", { status: 503 }),
  });
  const port = server.port as number;
  const cleanups: Array<() => Promise<void> | void> = [() => server.stop(true)];
  try {
    const config = resolveConfig({
      port,
      public_url: `http://auth.${COOKIE_DOMAIN}:${port}`,
      cookie: { domain: COOKIE_DOMAIN },
      trusted_proxies: ["127.0.0.1/32", "::1/128"],
      ...options.config,
    });
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
    await waitForRedis(client, 5000);
    const stores = createRedisStores(client, uniquePrefix());
    cleanups.unshift(() => stores.health.close());

    const policyPath = `${process.env.TMPDIR ?? "/tmp"}/vigil-portal-policy-${crypto.randomUUID()}.yaml`;
    await Bun.write(policyPath, options.policy ?? TEST_POLICY);
    const metrics = createMetrics({ defaultMetrics: false });
    const policy = new PolicySource(
      policyPath,
      { defaultMaxAgeMs: config.stepup.default_max_age },
      { onReload: () => {} },
    );
    cleanups.push(() => policy.close());

    const logLines: string[] = [];
    const sink = new (await import("node:stream")).Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    const clock: { now: number | undefined } = { now: undefined };
    const trusted = CidrSet.parse(config.trusted_proxies);
    const deps: AppDeps = {
      config,
      stores,
      policy,
      ipLists: { current: () => [] },
      geo: () => undefined,
      bearer: undefined,
      isTrustedProxy: (ip) => trusted.has(ip),
      clock: () => clock.now ?? Date.now(),
      logger: createLogger("info", sink),
      metrics,
    };
    const app = createApp(deps);
    handler = (request, peer) => app.fetch(request, { peer });
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      origin: config.publicOrigin,
      config,
      stores,
      deps,
      clock,
      logLines,
      async close() {
        for (const cleanup of cleanups) await cleanup();
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup();
    throw error;
  }
}

/** What Traefik's forwardAuth sends to /auth for a browser request to `url`. */
export function forwardAuthHeaders(
  url: string,
  cookie: string | undefined,
  clientIp = "127.0.0.1",
): Record<string, string> {
  const target = new URL(url);
  const headers: Record<string, string> = {
    Accept: "text/html,application/xhtml+xml",
    "User-Agent": "Mozilla/5.0 test",
    "X-Forwarded-Method": "GET",
    "X-Forwarded-Proto": target.protocol.replace(":", ""),
    "X-Forwarded-Host": target.host,
    "X-Forwarded-Uri": `${target.pathname}${target.search}`,
    "X-Forwarded-For": clientIp,
  };
  if (cookie !== undefined) headers.Cookie = cookie;
  return headers;
}
