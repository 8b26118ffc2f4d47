/**
 * createApp(deps): the HTTP surface. Transport only: every route delegates to a module that owns
 * its concern. The client's socket address arrives as the `peer` binding (see main.ts).
 *
 * createVigilFetch(deps) is what the server runs: the same app, with GET /auth (the decision
 * path, the only hot route) answered before Hono's router and context objects are built. Both
 * ways to /auth call the one forwardAuth handler and fail closed the same way.
 */
import { Hono } from "hono";
import { registerAdminRoutes } from "./http/admin/index.ts";
import { registerEventRoutes } from "./http/events/index.ts";
import {
  createForwardAuthHandler,
  type ForwardAuthDeps,
  type ForwardAuthHandler,
} from "./http/forward-auth/handler.ts";
import { registerHealthRoutes } from "./http/health.ts";
import { registerPortalRoutes } from "./http/portal/routes.ts";
import { isStoreFailure, storeFailureBody } from "./store-errors.ts";

export type AppEnv = { Bindings: { peer: string } };

/** Everything the routes need; the decision path's dependencies are the widest set. */
export type AppDeps = Omit<ForwardAuthDeps, "random">;

export const FORWARD_AUTH_PATH = "/auth";

export function createApp(deps: AppDeps): Hono<AppEnv> {
  return buildApp(deps, createForwardAuthHandler(deps));
}

function buildApp(deps: AppDeps, forwardAuth: ForwardAuthHandler): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Traefik sends GET; with preserveRequestMethod it sends the original method: accept any.
  app.all(FORWARD_AUTH_PATH, (c) => forwardAuth(c.req.raw, c.env?.peer ?? ""));
  registerHealthRoutes(app, { health: deps.stores.health, policy: deps.policy, metrics: deps.metrics });
  registerAdminRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerPortalRoutes(app, deps);

  app.notFound((c) => c.json({ error: "not_found" }, 404));
  app.onError((error, c) => {
    if (isStoreFailure(error)) {
      // Redis down, full, or a security write not confirmed: the caller retries, never a false success.
      deps.logger.error({ err: error.message, cause: error.reason, path: c.req.path }, "store unavailable");
      return c.json(storeFailureBody(error), 503, { "cache-control": "no-store", "retry-after": "1" });
    }
    deps.logger.error({ err: error.message, path: c.req.path }, "unhandled error");
    // Fail closed: an error is never an allow. Traefik treats any non-2xx as a denial.
    return c.json({ error: "internal_error" }, c.req.path === FORWARD_AUTH_PATH ? 503 : 500, {
      "cache-control": "no-store",
    });
  });
  return app;
}

/** The path of an absolute request URL is exactly /auth (a query may follow). */
export function isForwardAuthUrl(url: string): boolean {
  const slash = url.indexOf("/", url.indexOf("://") + 3);
  if (slash < 0 || !url.startsWith(FORWARD_AUTH_PATH, slash)) return false;
  const end = slash + FORWARD_AUTH_PATH.length;
  return end === url.length || url.charCodeAt(end) === 63; // "?"
}

export interface VigilFetch {
  /** The Hono app (every route, /auth included). */
  app: Hono<AppEnv>;
  /** Bun.serve's fetch: /auth straight to the handler, everything else through Hono. */
  fetch(request: Request, peer: string): Response | Promise<Response>;
}

export function createVigilFetch(deps: AppDeps): VigilFetch {
  const forwardAuth = createForwardAuthHandler(deps);
  const app = buildApp(deps, forwardAuth);
  // Same answer as app.onError gives /auth: fail closed, never an allow.
  const failed = (error: unknown): Response => {
    deps.logger.error({ err: (error as Error)?.message, path: FORWARD_AUTH_PATH }, "unhandled error");
    return new Response('{"error":"internal_error"}', {
      status: 503,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  };
  return {
    app,
    fetch(request, peer) {
      const url = request.url;
      // HEAD keeps Hono's handling (the answer without a body); other methods take the fast path.
      if (!isForwardAuthUrl(url) || request.method === "HEAD") return app.fetch(request, { peer });
      try {
        const answer = forwardAuth(request, peer, url);
        return answer instanceof Response ? answer : answer.catch(failed);
      } catch (error) {
        return failed(error);
      }
    },
  };
}
