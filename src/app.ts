/**
 * createApp(deps): the HTTP surface. Transport only: every route delegates to a module that owns
 * its concern. The client's socket address arrives as the `peer` binding (see main.ts).
 */
import { Hono } from "hono";
import { registerAdminRoutes } from "./http/admin/index.ts";
import { registerEventRoutes } from "./http/events/index.ts";
import { createForwardAuthHandler, type ForwardAuthDeps } from "./http/forward-auth/handler.ts";
import { registerHealthRoutes } from "./http/health.ts";
import { registerPortalRoutes } from "./http/portal/routes.ts";

export type AppEnv = { Bindings: { peer: string } };

/** Everything the routes need; the decision path's dependencies are the widest set. */
export type AppDeps = Omit<ForwardAuthDeps, "random">;

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const forwardAuth = createForwardAuthHandler(deps);

  // Traefik sends GET; with preserveRequestMethod it sends the original method: accept any.
  app.all("/auth", (c) => forwardAuth(c.req.raw, c.env?.peer ?? ""));
  registerHealthRoutes(app, { health: deps.stores.health, policy: deps.policy, metrics: deps.metrics });
  registerAdminRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerPortalRoutes(app, deps);

  app.notFound((c) => c.json({ error: "not_found" }, 404));
  app.onError((error, c) => {
    deps.logger.error({ err: error.message, path: c.req.path }, "unhandled error");
    // Fail closed: an error is never an allow. Traefik treats any non-2xx as a denial.
    return c.json({ error: "internal_error" }, c.req.path === "/auth" ? 503 : 500, {
      "cache-control": "no-store",
    });
  });
  return app;
}
