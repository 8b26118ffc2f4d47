/**
 * /account: the signed-in person's own passkeys and sessions.
 * - GET /account: the page (sign-in first when there is no live session).
 * - POST forms (same-origin only, like every state-changing portal endpoint): rename or delete a
 *   passkey, end one session, end every other session. Each answers 303 back to /account with a
 *   named outcome.
 * - POST /account/passkeys/options|verify: the add-a-passkey ceremony (JSON, bundled script).
 * Passkey changes need a passkey check no older than account.reauth_max_age (the step-up page);
 * ending sessions does not (it only ever reduces access).
 */
import { Hono } from "hono";
import { AccountError, createAccountOperations } from "../../account/operations.ts";
import { createAuditTrail } from "../../audit/trail.ts";
import type { Session } from "../../core/types.ts";
import type { AppEnv } from "../app-env.ts";
import { portalAsset } from "../portal/assets.ts";
import {
  clientOf,
  createPortal,
  currentSession,
  expectedOrigins,
  jsonError,
  newNonce,
  type PortalContext,
  type PortalDeps,
  renderPage,
} from "../portal/context.ts";
import { isSameOriginRequest } from "../portal/csrf.ts";
import { currentBranding } from "../ui/branding.ts";
import { renderErrorPage } from "../ui/error-pages.tsx";
import { readForm } from "../ui/form.ts";
import { addPasskeyOptions, addPasskeyVerify } from "./add-passkey.ts";
import { AccountPage } from "./pages.tsx";

/** The account page as a sub-app, mounted at the root. */
export function accountRoutes(deps: PortalDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const asset = portalAsset();
  const portal = createPortal(deps, asset);
  const origins = expectedOrigins(deps.config);
  const stepUpUrl = `/stepup?rd=${encodeURIComponent(`${deps.config.publicOrigin}/account`)}`;

  const isFresh = (session: Session) =>
    session.stepUpAt > 0 && deps.clock() - session.stepUpAt <= deps.config.account.reauth_max_age;

  const operationsFor = (c: PortalContext, session: Session) =>
    createAccountOperations(
      {
        stores: deps.stores,
        audit: createAuditTrail(
          deps.stores.audit,
          deps.logger,
          { actor: session.userId, via: "account", ip: clientOf(c, deps)?.ip ?? "" },
          deps.clock,
        ),
        onRevoked: (count) => deps.metrics.sessionsRevoked.inc({ cause: "user" }, count),
      },
      session.userId,
    );

  /** The live session of an active user, or the answer that replaces the page. */
  async function signedIn(c: PortalContext): Promise<Session | Response> {
    const session = await currentSession(c, deps);
    if (session === undefined) {
      return c.redirect(`/login?rd=${encodeURIComponent(`${deps.config.publicOrigin}/account`)}`, 302);
    }
    const user = await deps.stores.users.get(session.userId);
    if (user?.status !== "active") {
      return renderErrorPage(
        403,
        { title: "Account suspended", message: "Your account is suspended. Contact an administrator." },
        { branding: currentBranding(), portalOrigin: "" },
      );
    }
    return session;
  }

  app.get("/account", async (c) => {
    const session = await signedIn(c);
    if (session instanceof Response) return session;
    const ops = operationsFor(c, session);
    const [passkeys, sessions, user] = await Promise.all([
      ops.passkeys(),
      ops.sessions(),
      deps.stores.users.get(session.userId),
    ]);
    const nonce = newNonce();
    const page = AccountPage({
      nonce,
      script: (await asset).path,
      userId: session.userId,
      isAdmin: user?.groups.includes(deps.config.console.group) ?? false,
      passkeys,
      sessions,
      currentSessionId: session.id,
      fresh: isFresh(session),
      stepUpUrl,
      message: c.req.query("m"),
    });
    return renderPage(nonce, page);
  });

  // ---- state-changing endpoints: same-origin only ----
  app.use("/account/*", async (c, next) => {
    if (c.req.method !== "GET" && !isSameOriginRequest((name) => c.req.header(name), origins)) {
      deps.logger.warn({ event: "csrf_refused", path: c.req.path }, "cross-origin request refused");
      return jsonError(c, 403, "cross_origin", "This request must come from the account page itself.");
    }
    await next();
  });

  const back = (c: PortalContext, message: string) => c.redirect(`/account?m=${message}#passkeys`, 303);
  const backToSessions = (c: PortalContext, message: string) =>
    c.redirect(`/account?m=${message}#sessions`, 303);

  /** Runs one form action for the signed-in user; AccountError codes become the page's message. */
  function formAction(
    needsFreshCheck: boolean,
    work: (c: PortalContext, session: Session, form: URLSearchParams) => Promise<Response>,
  ) {
    return async (c: PortalContext) => {
      const session = await signedIn(c);
      if (session instanceof Response) return session;
      if (needsFreshCheck && !isFresh(session)) return c.redirect(stepUpUrl, 303);
      const form = await readForm(c);
      if (form === undefined) return back(c, "bad_form");
      try {
        return await work(c, session, form);
      } catch (error) {
        if (error instanceof AccountError) return back(c, error.code);
        throw error;
      }
    };
  }

  app.post(
    "/account/passkeys/:id/rename",
    formAction(true, async (c, session, form) => {
      await operationsFor(c, session).renamePasskey(c.req.param("id") ?? "", form.get("name") ?? "");
      return back(c, "renamed");
    }),
  );

  app.post(
    "/account/passkeys/:id/delete",
    formAction(true, async (c, session) => {
      await operationsFor(c, session).deletePasskey(c.req.param("id") ?? "");
      return back(c, "deleted");
    }),
  );

  app.post(
    "/account/sessions/end-others",
    formAction(false, async (c, session) => {
      await operationsFor(c, session).endOtherSessions(session.id);
      return backToSessions(c, "ended_others");
    }),
  );

  app.post(
    "/account/sessions/:id/end",
    formAction(false, async (c, session) => {
      try {
        await operationsFor(c, session).endSession(c.req.param("id") ?? "");
      } catch (error) {
        if (error instanceof AccountError) return backToSessions(c, error.code);
        throw error;
      }
      return backToSessions(c, "ended");
    }),
  );

  // ---- adding a passkey: a registration ceremony for the signed-in user ----
  const ceremony =
    (run: typeof addPasskeyOptions) =>
    async (c: PortalContext): Promise<Response> => {
      const session = await currentSession(c, deps);
      if (session === undefined) return jsonError(c, 401, "no_session", "You are not signed in.");
      if (!isFresh(session)) {
        return jsonError(c, 401, "stepup_required", "Confirm it's you with your passkey first.");
      }
      const client = clientOf(c, deps);
      if (client === undefined)
        return jsonError(c, 400, "bad_client_address", "The client address could not be read.");
      return run(portal, c, client, session, operationsFor(c, session));
    };
  app.post("/account/passkeys/options", ceremony(addPasskeyOptions));
  app.post("/account/passkeys/verify", ceremony(addPasskeyVerify));
  return app;
}
