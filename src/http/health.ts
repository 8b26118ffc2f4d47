/** Ops endpoints: liveness, readiness (store + policy), Prometheus metrics. */
import { Hono } from "hono";
import type { Metrics } from "../observe/metrics.ts";
import type { Policy } from "../policy/compile.ts";
import type { StoreHealth } from "../ports.ts";
import { storeFailureCause } from "../store-errors.ts";
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
    // Why the store is not ready, as a cause code (e.g. out_of_memory), not the raw error, which
    // may name internal addresses.
    let problem: string | undefined;
    const store = await deps.health.ping().catch((error: Error) => {
      problem = error.message;
      return false;
    });
    const body = {
      store: store ? "ok" : "unavailable",
      store_kind: deps.health.kind,
      ...(problem === undefined ? {} : { store_cause: storeFailureCause(problem) }),
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
