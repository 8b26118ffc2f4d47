/** Ops endpoints: liveness, readiness (store + policy), Prometheus metrics. */
import { Hono } from "hono";
import type { Metrics } from "../observe/metrics.ts";
import type { Policy } from "../policy/compile.ts";
import type { StoreHealth } from "../ports.ts";
import type { AppEnv } from "./app-env.ts";

export interface HealthDeps {
  health: StoreHealth;
  policy: { current(): Policy };
  metrics: Metrics;
}

/** The ops routes as a sub-app, mounted at the root. */
export function healthRoutes(deps: HealthDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/readyz", async (c) => {
    const store = await deps.health.ping().catch(() => false);
    const body = {
      store: store ? "ok" : "unavailable",
      store_kind: deps.health.kind,
      policy: deps.policy.current().version,
    };
    return c.json(body, store ? 200 : 503, { "cache-control": "no-store" });
  });
  app.get("/metrics", async (c) => {
    const text = await deps.metrics.registry.metrics();
    return c.text(text, 200, { "content-type": deps.metrics.registry.contentType });
  });
  return app;
}
