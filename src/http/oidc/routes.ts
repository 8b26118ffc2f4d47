/**
 * The OIDC routes on the portal host: GET /oidc/<id>/login, GET /oidc/<id>/callback,
 * POST /oidc/<id>/backchannel-logout, and POST /oidc/passkey (a federated user who has just
 * signed in at the IdP registers a passkey without an enrollment link).
 */
import { Hono } from "hono";
import type { OidcProviders } from "../../oidc/providers.ts";
import { mintEnrollment } from "../../webauthn/enrollment.ts";
import type { AppEnv } from "../app-env.ts";
import {
  currentSession,
  expectedOrigins,
  type PortalContext,
  type PortalDeps,
  returnUrl,
} from "../portal/context.ts";
import { isSameOriginRequest } from "../portal/csrf.ts";
import { Regulation } from "../portal/regulation.ts";
import { problem } from "./answer.ts";
import { backchannelLogout } from "./backchannel-logout.ts";
import { finishOidcFlow } from "./callback.ts";
import { startOidcFlow } from "./login.ts";

export type OidcRouteDeps = PortalDeps & { oidc: OidcProviders };

/** Whether a session may register a passkey without a link: signed in at an IdP, recently. */
export function mayEnrollAfterIdpSignIn(
  session: { federation?: unknown; authAt: number },
  now: number,
  windowMs: number,
): boolean {
  return session.federation !== undefined && now - session.authAt <= windowMs;
}

/** The OIDC route group, mounted by app.ts when providers are configured. */
export function oidcRoutes(deps: OidcRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const regulation = new Regulation(deps.stores.counters, deps.config);
  const provider = (c: PortalContext) => deps.oidc.get(c.req.param("id") ?? "");

  app.get("/oidc/:id/login", async (c) => {
    const found = provider(c);
    return found ? startOidcFlow(deps, regulation, c, found) : problem(c, 404, "unknown_provider");
  });
  app.get("/oidc/:id/callback", async (c) => {
    const found = provider(c);
    return found ? finishOidcFlow(deps, c, found) : problem(c, 404, "unknown_provider");
  });
  app.post("/oidc/:id/backchannel-logout", async (c) => {
    const found = provider(c);
    return found ? backchannelLogout(deps, c, found) : c.json({ error: "invalid_request" }, 404);
  });

  const origins = expectedOrigins(deps.config);
  app.post("/oidc/passkey", async (c) => {
    if (!isSameOriginRequest((name) => c.req.header(name), origins)) {
      return c.json({ error: "cross_origin" }, 403, { "cache-control": "no-store" });
    }
    const session = await currentSession(c, deps);
    if (session === undefined) return problem(c, 403, "no_session");
    const now = deps.clock();
    if (!mayEnrollAfterIdpSignIn(session, now, deps.config.oidc.passkey_enrollment_window)) {
      return problem(c, 403, "auth_time_stale");
    }
    const minted = await mintEnrollment(deps, { userId: session.userId }, now);
    deps.logger.info(
      { event: "oidc_passkey_link", user: session.userId },
      "passkey registration after an IdP sign-in",
    );
    const rd = returnUrl(deps, c.req.query("rd"));
    return new Response(null, {
      status: 303,
      headers: { location: `${minted.url}?rd=${encodeURIComponent(rd)}`, "cache-control": "no-store" },
    });
  });
  return app;
}
