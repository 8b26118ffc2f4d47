/**
 * createApp(deps): the HTTP surface. Transport only: every route delegates to a module that owns
 * its concern. The client's socket address arrives as the `peer` binding (see server.ts).
 *
 * createVigilFetch(deps) is what the server runs: the same app, with GET /auth (the decision
 * path, the only hot route) answered before Hono's router and context objects are built. Both
 * ways to /auth call the one forwardAuth handler and fail closed the same way.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { accountRoutes } from "./http/account/routes.ts";
import { adminRoutes } from "./http/admin/index.ts";
import type { AppDeps, AppEnv } from "./http/app-env.ts";
import { consoleRoutes } from "./http/console/routes.ts";
import { eventRoutes } from "./http/events/index.ts";
import { createForwardAuthHandler, type ForwardAuthHandler } from "./http/forward-auth/handler.ts";
import { normaliseIp } from "./http/forward-auth/request.ts";
import { healthRoutes } from "./http/health.ts";
import { oidcRoutes } from "./http/oidc/routes.ts";
import { portalRoutes } from "./http/portal/routes.ts";
import { currentBranding } from "./http/ui/branding.ts";
import { renderErrorPage, wantsHtml } from "./http/ui/error-pages.tsx";
import { registerUiRoutes } from "./http/ui/routes.ts";
import { isStoreFailure, storeFailureBody } from "./store-errors.ts";

export type { AppDeps, AppEnv };

export const FORWARD_AUTH_PATH = "/auth";

export function createApp(deps: AppDeps): Hono<AppEnv> {
  return buildApp(deps, createForwardAuthHandler(deps));
}

function buildApp(deps: AppDeps, forwardAuth: ForwardAuthHandler): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // One address form in every log line and key: a dual-stack socket reports IPv4 clients as
  // ::ffff:a.b.c.d, which the decision path already writes as a.b.c.d (normaliseIp).
  app.use("*", async (c, next) => {
    if (c.env) c.env.peer = normaliseIp(c.env.peer) ?? c.env.peer;
    await next();
  });

  // Traefik sends GET; with preserveRequestMethod it sends the original method: accept any.
  app.all(FORWARD_AUTH_PATH, (c) => forwardAuth(c.req.raw, c.env?.peer ?? ""));
  // The shared look: stylesheet, logo and the branding scope of every page (a root middleware).
  registerUiRoutes(app, deps);
  app.route("/", healthRoutes({ health: deps.stores.health, policy: deps.policy, metrics: deps.metrics }));
  app.route("/", adminRoutes(deps));
  app.route("/", eventRoutes(deps));
  if (deps.oidc) app.route("/", oidcRoutes({ ...deps, oidc: deps.oidc }));
  app.route("/", portalRoutes(deps));
  app.route("/", accountRoutes(deps));
  app.route("/", consoleRoutes(deps));

  app.notFound((c) => {
    if (wantsHtml(c.req.header("accept"))) {
      const message = "There is no page at this address. Check the link, or start again from the home page.";
      return renderErrorPage(
        404,
        { title: "Page not found", message },
        { branding: currentBranding(), portalOrigin: "" },
      );
    }
    return c.json({ error: "not_found" }, 404);
  });
  app.onError((error, c) => {
    // A route's own refusal (bad body, wrong media type): its response as built.
    if (error instanceof HTTPException) return error.getResponse();
    if (isStoreFailure(error)) {
      // Redis down, full, or a security write not confirmed: the caller retries, never a false success.
      // The route, not the path: a path can hold a secret (/enroll/<token>).
      deps.logger.error(
        { err: error.message, cause: error.reason, route: c.req.routePath },
        "store unavailable",
      );
      if (c.req.path !== FORWARD_AUTH_PATH && wantsHtml(c.req.header("accept"))) {
        const message =
          "The service cannot reach its store right now, so nothing was changed. Try again in a moment.";
        return renderErrorPage(
          503,
          { title: "Temporarily unavailable", message },
          { branding: currentBranding(), portalOrigin: "", headers: { "retry-after": "1" } },
        );
      }
      return c.json(storeFailureBody(error), 503, { "cache-control": "no-store", "retry-after": "1" });
    }
    // The route, not the path: a path can hold a secret (/enroll/<token>).
    deps.logger.error({ err: error.message, route: c.req.routePath }, "unhandled error");
    if (c.req.path !== FORWARD_AUTH_PATH && wantsHtml(c.req.header("accept"))) {
      const message = "Something failed on our side and nothing was changed. Try again in a moment.";
      return renderErrorPage(
        500,
        { title: "Something went wrong", message },
        { branding: currentBranding(), portalOrigin: "" },
      );
    }
    // Fail closed: an error is never an allow. Traefik treats any non-2xx as a denial.
    if (c.req.path === FORWARD_AUTH_PATH) {
      return c.json({ error: "internal_error" }, 503, { "cache-control": "no-store" });
    }
    // The portal's pages show `message` to the person (e.g. signing in while the store is down).
    const message = "Something failed on our side and nothing was changed. Try again in a moment.";
    return c.json({ error: "internal_error", message }, 500, { "cache-control": "no-store" });
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
