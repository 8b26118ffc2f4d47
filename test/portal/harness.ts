/**
 * An in-process Vigil for portal tests, on a port known before the config is resolved, so the
 * portal's public URL (http://auth.vigil.localhost:<port>) is the address a browser really opens.
 * Real Redis (a throwaway redis-server, or REDIS_URL with a unique prefix). Built on startVigil.
 */
import { Writable } from "node:stream";
import type { AppDeps } from "../../src/app.ts";
import type { Config } from "../../src/config/load.ts";
import { createLogger } from "../../src/observe/logger.ts";
import type { Stores } from "../../src/ports.ts";
import { startVigil, type TestVigilOptions } from "../helpers/vigil.ts";

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
  options: { config?: Record<string, unknown>; policy?: string; store?: TestVigilOptions["store"] } = {},
): Promise<Portal> {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const clock: { now: number | undefined } = { now: undefined };
  const vigil = await startVigil({
    config: (port) => ({
      public_url: `http://auth.${COOKIE_DOMAIN}:${port}`,
      cookie: { domain: COOKIE_DOMAIN },
      ...options.config,
    }),
    policyText: options.policy ?? TEST_POLICY,
    store: options.store,
    deps: {
      geo: () => undefined,
      clock: () => clock.now ?? Date.now(),
      logger: createLogger("info", sink),
    },
  });
  return {
    url: vigil.url,
    port: vigil.server.port as number,
    origin: vigil.config.publicOrigin,
    config: vigil.config,
    stores: vigil.stores,
    deps: vigil.deps,
    clock,
    logLines,
    close: () => vigil.close(),
  };
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
