/**
 * An in-process Vigil on a free port, built from server.ts's own composition (src/compose.ts) with
 * the pieces a test controls: config overrides, policy text, a clock, dependency overrides, and a
 * real Redis (a throwaway redis-server unless given one) or the memory store when asked.
 */
import type { Server } from "bun";
import { type AppDeps, createVigilFetch, type VigilFetch } from "../../src/app.ts";
import { composeDeps, createIpLists, createPolicySource, createStores } from "../../src/compose.ts";
import { type Config, resolveConfig } from "../../src/config/load.ts";
import { SERVER_MAX_BODY_BYTES } from "../../src/http/read-body.ts";
import { createLogger } from "../../src/observe/logger.ts";
import { createMetrics } from "../../src/observe/metrics.ts";
import type { Stores } from "../../src/ports.ts";
import { startRedis, uniquePrefix } from "./redis-server.ts";

export interface TestVigil {
  url: string;
  config: Config;
  stores: Stores;
  deps: AppDeps;
  server: Server<unknown>;
  /** Mutable clock: tests move time by assigning now. */
  clock: { now: number };
  close(): Promise<void>;
}

export interface TestVigilOptions {
  /**
   * Raw config (YAML shape) merged over test defaults; a function receives the listening port
   * first, for configs that name it (e.g. a public_url a browser really opens).
   */
  config?: Record<string, unknown> | ((port: number) => Record<string, unknown>);
  /** Policy file path (watched) — or use policyText. */
  policyPath?: string;
  policyText?: string;
  /** "memory" for the embedded store; otherwise a Redis URL, or a throwaway redis-server is started. */
  store?: "memory" | { redisUrl: string; prefix?: string };
  /** Optional overrides of wired dependencies (e.g. bearer verifier, logger destination). */
  deps?: Partial<AppDeps>;
  now?: number;
}

export async function startVigil(options: TestVigilOptions = {}): Promise<TestVigil> {
  // Listen first, so the port is known before the config is resolved; requests before the app
  // is wired get 503.
  let app: VigilFetch | undefined;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    maxRequestBodySize: SERVER_MAX_BODY_BYTES,
    fetch: (request, srv) =>
      app
        ? app.fetch(request, srv.requestIP(request)?.address ?? "")
        : new Response("starting", { status: 503 }),
  });
  const port = server.port as number;
  const cleanups: Array<() => Promise<void> | void> = [() => server.stop(true)];
  try {
    return await wire(server, port, options, cleanups, (wired) => {
      app = wired;
    });
  } catch (error) {
    for (const cleanup of cleanups) await cleanup();
    throw error;
  }
}

async function wire(
  server: Server<unknown>,
  port: number,
  options: TestVigilOptions,
  cleanups: Array<() => Promise<void> | void>,
  serve: (app: VigilFetch) => void,
): Promise<TestVigil> {
  const overrides = typeof options.config === "function" ? options.config(port) : options.config;
  const resolved = resolveConfig({
    port,
    public_url: "http://auth.localhost:8080",
    trusted_proxies: ["127.0.0.1/32", "::1/128"],
    ...overrides,
  });

  let policyPath = options.policyPath;
  if (!policyPath && options.policyText !== undefined) {
    policyPath = `${process.env.TMPDIR ?? "/tmp"}/vigil-policy-${crypto.randomUUID()}.yaml`;
    await Bun.write(policyPath, options.policyText);
  }
  let redisUrl: string | undefined;
  if (options.store !== "memory") {
    redisUrl = options.store?.redisUrl;
    if (redisUrl === undefined) {
      const redis = await startRedis();
      cleanups.push(() => redis.stop());
      redisUrl = redis.url;
    }
  }
  // The config as the test resolved it, pointed at this test's Redis and policy file.
  const config: Config = {
    ...resolved,
    policy_path: policyPath ?? resolved.policy_path,
    redis: { ...resolved.redis, url: redisUrl },
  };

  // The parts server.ts builds, from the same functions (src/compose.ts).
  const logger = createLogger(process.env.VIGIL_TEST_LOG_LEVEL ?? "silent");
  const metrics = createMetrics({ defaultMetrics: false });
  const stores = await createStores(config, logger, metrics, {
    prefix: options.store === "memory" ? undefined : (options.store?.prefix ?? uniquePrefix()),
  });
  cleanups.splice(1, 0, () => stores.health.close()); // after the server stops, before Redis does
  const policy = createPolicySource(config, logger, metrics);
  cleanups.push(() => policy.close());
  const ipLists = createIpLists(config, logger);
  cleanups.push(() => ipLists.close());

  const clock = { now: options.now ?? Date.now() };
  const deps: AppDeps = {
    ...composeDeps(config, { stores, policy, ipLists, logger, metrics }),
    // What a test controls: the clock, and whatever it overrides.
    clock: () => clock.now,
    ...options.deps,
  };
  // The server's own fetch (server.ts): /auth on the fast path, the rest through Hono.
  serve(createVigilFetch(deps));
  return {
    url: `http://127.0.0.1:${port}`,
    config,
    stores,
    deps,
    server,
    clock,
    async close() {
      for (const cleanup of cleanups) await cleanup();
    },
  };
}

/** Creates an active user and a signed-in session; returns the cookie token. */
export async function signIn(
  stores: Stores,
  user: { id: string; groups?: string[]; status?: "active" | "suspended" },
  now: number,
  session: Partial<{
    acr: string;
    amr: string[];
    stepUpAt: number;
    ip: string;
    country: string;
    uaHash: string;
  }> = {},
): Promise<{ token: string; sessionId: string }> {
  await stores.users.put({
    id: user.id,
    displayName: user.id,
    status: user.status ?? "active",
    groups: user.groups ?? [],
    createdAt: now,
  });
  const created = await stores.sessions.create(
    {
      userId: user.id,
      acr: session.acr ?? "passkey",
      amr: session.amr ?? ["hwk", "user"],
      authAt: now,
      stepUpAt: session.stepUpAt ?? 0,
      ip: session.ip ?? "127.0.0.1",
      country: session.country ?? "",
      uaHash: session.uaHash ?? "",
    },
    now,
    12 * 3600_000,
  );
  return { token: created.token, sessionId: created.session.id };
}
