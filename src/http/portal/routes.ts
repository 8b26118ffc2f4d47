/**
 * The portal's routes: pages (/, /login, /stepup, /enroll/:token), the bundled script, the
 * WebAuthn JSON endpoints and logout. Transport only: ceremonies live in enroll/login/stepup.ts.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import { clearedSessionCookie, readSessionToken } from "../../session/cookie.ts";
import { sessionIdFromToken } from "../../session/token.ts";
import type { AppEnv } from "../app-env.ts";
import { MAX_USER_AGENT_BYTES } from "../forward-auth/request.ts";
import { IdpSignOutPage } from "../oidc/pages.tsx";
import { idpEndSessionUrl, stepUpProviders } from "../oidc/portal-links.ts";
import { mayEnrollAfterIdpSignIn } from "../oidc/routes.ts";
import { MAX_BODY_BYTES, readBodyText } from "../read-body.ts";
import { buildPortalAsset } from "./assets.ts";
import {
  assertionOptionsBody,
  assertionVerifyBody,
  registerOptionsBody,
  registerVerifyBody,
} from "./body.ts";
import {
  type Client,
  clientOf,
  createPortal,
  currentSession,
  expectedOrigins,
  jsonError,
  newNonce,
  type Portal,
  type PortalContext,
  type PortalDeps,
  renderPage,
  returnUrl,
} from "./context.ts";
import { isSameOriginRequest } from "./csrf.ts";
import { enrollmentUser, registerOptions, registerVerify } from "./enroll.ts";
import { loginOptions, loginVerify } from "./login.ts";
import {
  EnrollLinkInvalidPage,
  EnrollPage,
  LoginPage,
  SignedInPage,
  SignedOutPage,
  StepUpPage,
} from "./pages.tsx";
import { stepUpOptions, stepUpVerify } from "./stepup.ts";

type Handler = (portal: Portal, c: PortalContext, client: Client) => Promise<Response>;

/** A refusal of the request's body, thrown: app.onError answers with its JSON response. */
function refuseBody(...refusal: Parameters<typeof jsonError>): never {
  throw new HTTPException(refusal[1], { res: jsonError(...refusal) });
}

/** Reads and validates a JSON body; throws an HTTPException (415, 413, 400) when it is refused. */
async function readJson<S extends z.ZodType>(c: PortalContext, schema: S): Promise<z.infer<S>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    refuseBody(c, 415, "unsupported_media_type", "Send JSON (Content-Type: application/json).");
  }
  // Read with the limit enforced while reading: a chunked body has no Content-Length to check.
  const body = await readBodyText(c.req.raw, MAX_BODY_BYTES);
  if (!body.ok) refuseBody(c, 413, "body_too_large", `The request body is larger than ${body.limit} bytes.`);
  let raw: unknown;
  try {
    raw = body.text === "" ? {} : JSON.parse(body.text);
  } catch {
    refuseBody(c, 400, "invalid_json", "The request body is not valid JSON.");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    refuseBody(c, 400, "invalid_request", "The request body is not what this endpoint expects.");
  return parsed.data;
}

/** The portal as a sub-app, mounted at the root. */
export function portalRoutes(deps: PortalDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const asset = buildPortalAsset();
  asset.catch((error: Error) => deps.logger.error({ err: error.message }, "portal script bundle failed"));
  const portal = createPortal(deps, asset);
  const origins = expectedOrigins(deps.config);

  // ---- the bundled ceremony script ----
  app.get("/assets/:file", async (c) => {
    const built = await asset;
    if (c.req.param("file") !== built.path.slice("/assets/".length))
      return c.json({ error: "not_found" }, 404);
    return c.body(built.body, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
      "cross-origin-resource-policy": "same-origin",
    });
  });

  // ---- pages ----
  app.get("/", async (c) => {
    const session = await currentSession(c, deps);
    if (session === undefined) return c.redirect("/login", 302);
    const nonce = newNonce();
    const canAddPasskey = mayEnrollAfterIdpSignIn(
      session,
      deps.clock(),
      deps.config.oidc.passkey_enrollment_window,
    );
    return renderPage(nonce, SignedInPage({ nonce, userId: session.userId, canAddPasskey }));
  });

  app.get("/login", async (c) => {
    const nonce = newNonce();
    const script = (await asset).path;
    const rd = returnUrl(deps, c.req.query("rd"));
    return renderPage(nonce, LoginPage({ nonce, script, rd, providers: deps.oidc?.list() ?? [] }));
  });

  app.get("/stepup", async (c) => {
    const rd = returnUrl(deps, c.req.query("rd"));
    const session = await currentSession(c, deps);
    if (session === undefined) {
      return c.redirect(`/login?rd=${encodeURIComponent(rd)}`, 302);
    }
    const nonce = newNonce();
    const script = (await asset).path;
    // The rule may accept only one kind of check (policy `via`): offer only that one.
    const via = c.req.query("via");
    const providers = via === "passkey" ? [] : stepUpProviders(deps, session);
    const passkey = via !== "idp";
    return renderPage(nonce, StepUpPage({ nonce, script, rd, userId: session.userId, providers, passkey }));
  });

  app.get("/enroll/:token", async (c) => {
    const nonce = newNonce();
    const token = c.req.param("token");
    const found = await enrollmentUser(portal, token, deps.clock());
    if (found === undefined) return renderPage(nonce, EnrollLinkInvalidPage({ nonce }), 410);
    const script = (await asset).path;
    const rd = returnUrl(deps, c.req.query("rd"));
    return renderPage(nonce, EnrollPage({ nonce, script, rd, token, userId: found.user.id }));
  });

  // ---- state-changing endpoints: same-origin only ----
  const sameOrigin = async (c: PortalContext, next: () => Promise<void>) => {
    if (!isSameOriginRequest((name) => c.req.header(name), origins)) {
      deps.logger.warn({ event: "csrf_refused", path: c.req.path }, "cross-origin request refused");
      return jsonError(c, 403, "cross_origin", "This request must come from the sign-in page itself.");
    }
    await next();
  };
  app.use("/webauthn/*", sameOrigin);
  app.use("/logout", sameOrigin);

  const withClient = (handler: Handler) => async (c: PortalContext) => {
    // The same bound as /auth: an oversize User-Agent is refused, not hashed.
    if ((c.req.header("user-agent")?.length ?? 0) > MAX_USER_AGENT_BYTES) {
      return jsonError(
        c,
        431,
        "header_too_large",
        `The User-Agent header is longer than ${MAX_USER_AGENT_BYTES} bytes.`,
      );
    }
    const client = clientOf(c, deps);
    if (client === undefined)
      return jsonError(c, 400, "bad_client_address", "The client address could not be read.");
    return handler(portal, c, client);
  };

  app.post(
    "/webauthn/register/options",
    withClient(async (portal, c, client) => {
      const body = await readJson(c, registerOptionsBody);
      return registerOptions(portal, c, client, body.token);
    }),
  );
  app.post(
    "/webauthn/register/verify",
    withClient(async (portal, c, client) => {
      const body = await readJson(c, registerVerifyBody);
      return registerVerify(portal, c, client, body);
    }),
  );
  app.post(
    "/webauthn/login/options",
    withClient(async (portal, c, client) => {
      await readJson(c, assertionOptionsBody);
      return loginOptions(portal, c, client);
    }),
  );
  app.post(
    "/webauthn/login/verify",
    withClient(async (portal, c, client) => {
      const body = await readJson(c, assertionVerifyBody);
      return loginVerify(portal, c, client, body);
    }),
  );
  app.post(
    "/webauthn/stepup/options",
    withClient(async (portal, c, client) => {
      await readJson(c, assertionOptionsBody);
      return stepUpOptions(portal, c, client, await currentSession(c, deps));
    }),
  );
  app.post(
    "/webauthn/stepup/verify",
    withClient(async (portal, c, client) => {
      const body = await readJson(c, assertionVerifyBody);
      return stepUpVerify(portal, c, client, await currentSession(c, deps), body);
    }),
  );

  app.post("/logout", async (c) => {
    const token = readSessionToken(c.req.header("cookie"));
    const ending =
      token === undefined ? undefined : await deps.stores.sessions.get(sessionIdFromToken(token));
    if (token !== undefined && (await deps.stores.sessions.delete(sessionIdFromToken(token)))) {
      deps.metrics.sessionsRevoked.inc({ cause: "logout" });
      deps.logger.info({ event: "logout", session: sessionIdFromToken(token) }, "signed out");
    }
    const cleared = clearedSessionCookie(deps.config);
    const wantsJson = /application\/json/i.test(c.req.header("accept") ?? "");
    if (wantsJson) return c.json({ ok: true }, 200, { "set-cookie": cleared, "cache-control": "no-store" });
    // A session from an IdP sign-in: end the IdP session too, when the provider offers it.
    const endSession = ending === undefined ? undefined : idpEndSessionUrl(deps, ending);
    if (endSession !== undefined) {
      const nonce = newNonce();
      return renderPage(nonce, IdpSignOutPage({ nonce, ...endSession }), 200, { "set-cookie": cleared });
    }
    const nonce = newNonce();
    return renderPage(nonce, SignedOutPage({ nonce }), 200, { "set-cookie": cleared });
  });
  return app;
}
