/**
 * The admin console under /console, for members of console.group, behind a passkey check no older
 * than console.stepup_max_age. Every request re-reads the session and the user from the store, so
 * a revoked session, a suspension or a removed group takes the console away on the next click.
 * Forms post same-origin only (the portal's CSRF check) and call the admin operations shared with
 * the API and the CLI, audited as the signed-in admin ("console", their address).
 */
import { Hono } from "hono";
import { AdminError, type UserView } from "../../admin/operations.ts";
import type { Session } from "../../core/types.ts";
import { MetricsHistory } from "../../observe/metrics-history.ts";
import { adminOperationsFor } from "../admin/routes.ts";
import type { AppEnv } from "../app-env.ts";
import {
  clientOf,
  currentSession,
  expectedOrigins,
  newNonce,
  type PortalContext,
  type PortalDeps,
  renderPage,
} from "../portal/context.ts";
import { isSameOriginRequest } from "../portal/csrf.ts";
import { currentBranding } from "../ui/branding.ts";
import { renderErrorPage } from "../ui/error-pages.tsx";
import { readForm } from "../ui/form.ts";
import { computeOverview } from "./overview.ts";
import { AuditPage, LinkPage, OverviewPage, UserPage, UsersPage } from "./pages.tsx";
import { qrSvg } from "./qr.ts";

const SAMPLE_INTERVAL_MS = 10_000;
const MAX_RESULTS = 50;

interface Admin {
  session: Session;
  adminId: string;
}

/** The admin console as a sub-app, mounted at the root. */
export function consoleRoutes(deps: PortalDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { config } = deps;
  const origins = expectedOrigins(config);
  const history = new MetricsHistory(deps.metrics);
  history.start(SAMPLE_INTERVAL_MS, deps.clock);

  // Where to come back after sign-in or step-up: the page itself, or the console for a form post.
  const returnPath = (c: PortalContext) => (c.req.method === "GET" ? c.req.path : "/console");
  const refuse = (status: 403, title: string, message: string) =>
    renderErrorPage(status, { title, message }, { branding: currentBranding(), portalOrigin: "" });

  /** The admin behind this request, or the answer that replaces the page. */
  async function admin(c: PortalContext): Promise<Admin | Response> {
    if (c.req.method !== "GET" && !isSameOriginRequest((name) => c.req.header(name), origins)) {
      deps.logger.warn({ event: "csrf_refused", path: c.req.path }, "cross-origin request refused");
      return refuse(403, "Request refused", "This request must come from the console itself.");
    }
    const session = await currentSession(c, deps);
    const back = encodeURIComponent(`${config.publicOrigin}${returnPath(c)}`);
    if (session === undefined) return c.redirect(`/login?rd=${back}`, c.req.method === "GET" ? 302 : 303);
    const user = await deps.stores.users.get(session.userId);
    if (user?.status !== "active" || !user.groups.includes(config.console.group)) {
      deps.logger.warn(
        { event: "console_refused", user: session.userId, path: c.req.path },
        "console refused",
      );
      return refuse(403, "Not available", "The console is for administrators only.");
    }
    const fresh = session.stepUpAt > 0 && deps.clock() - session.stepUpAt <= config.console.stepup_max_age;
    if (!fresh) return c.redirect(`/stepup?rd=${back}`, c.req.method === "GET" ? 302 : 303);
    return { session, adminId: user.id };
  }

  const opsFor = (c: PortalContext, who: Admin) =>
    adminOperationsFor(deps, { actor: who.adminId, via: "console", ip: clientOf(c, deps)?.ip ?? "" });

  const render = (nonce: string, element: unknown) => renderPage(nonce, element);
  const userPath = (id: string) => `/console/users/${encodeURIComponent(id)}`;

  app.get("/console", async (c) => {
    const who = await admin(c);
    if (who instanceof Response) return who;
    await history.sample(deps.clock());
    const nonce = newNonce();
    return render(
      nonce,
      OverviewPage({ nonce, adminId: who.adminId, overview: computeOverview(history.samples()) }),
    );
  });

  app.get("/console/users", async (c) => {
    const who = await admin(c);
    if (who instanceof Response) return who;
    const query = (c.req.query("q") ?? "").trim().slice(0, 256);
    const needle = query.toLowerCase();
    const matching = (await opsFor(c, who).listUsers()).filter(
      (u: UserView) =>
        needle === "" || u.id.toLowerCase().includes(needle) || u.display_name.toLowerCase().includes(needle),
    );
    const nonce = newNonce();
    return render(
      nonce,
      UsersPage({
        nonce,
        adminId: who.adminId,
        query,
        users: matching.slice(0, MAX_RESULTS),
        more: matching.length > MAX_RESULTS,
      }),
    );
  });

  app.get("/console/users/:user", async (c) => {
    const who = await admin(c);
    if (who instanceof Response) return who;
    const ops = opsFor(c, who);
    const id = c.req.param("user");
    try {
      const [user, passkeys, sessions] = await Promise.all([
        ops.getUser(id),
        ops.listCredentials(id),
        ops.listSessions(id),
      ]);
      const nonce = newNonce();
      return render(
        nonce,
        UserPage({ nonce, adminId: who.adminId, message: c.req.query("m"), user, passkeys, sessions }),
      );
    } catch (error) {
      if (error instanceof AdminError && error.status === 404) {
        return c.redirect(`/console/users?m=user_not_found`, 303);
      }
      throw error;
    }
  });

  app.get("/console/audit", async (c) => {
    const who = await admin(c);
    if (who instanceof Response) return who;
    const nonce = newNonce();
    return render(
      nonce,
      AuditPage({ nonce, adminId: who.adminId, records: await deps.stores.audit.recent(200) }),
    );
  });

  /** One form action on a user: the admin check, the form, the verb, then back to the user's page. */
  function action(
    name: string,
    work: (c: PortalContext, who: Admin, userId: string, form: URLSearchParams) => Promise<Response | string>,
  ) {
    app.post(`/console/users/:user/${name}`, async (c) => {
      const who = await admin(c);
      if (who instanceof Response) return who;
      const userId = c.req.param("user") ?? "";
      const form = await readForm(c);
      if (form === undefined) return c.redirect(`${userPath(userId)}?m=bad_form`, 303);
      try {
        const outcome = await work(c, who, userId, form);
        return outcome instanceof Response ? outcome : c.redirect(`${userPath(userId)}?m=${outcome}`, 303);
      } catch (error) {
        if (error instanceof AdminError) return c.redirect(`${userPath(userId)}?m=${error.code}`, 303);
        throw error;
      }
    });
  }

  const notYourself = (who: Admin, userId: string) => {
    if (who.adminId === userId) throw new AdminError(409, "not_yourself", "not on your own account");
  };

  action("suspend", async (c, who, userId) => {
    notYourself(who, userId);
    await opsFor(c, who).suspend(userId);
    return "suspended";
  });
  action("resume", async (c, who, userId) => {
    await opsFor(c, who).resume(userId);
    return "resumed";
  });
  action("groups", async (c, who, userId, form) => {
    const groups = (form.get("groups") ?? "")
      .split(",")
      .map((g) => g.trim())
      .filter(Boolean);
    await opsFor(c, who).setGroups(userId, groups);
    return "groups_set";
  });
  action("sessions/revoke", async (c, who, userId) => {
    await opsFor(c, who).revokeUserSessions(userId, "admin");
    return "sessions_revoked";
  });
  action("sessions/:session/revoke", async (c, who, userId) => {
    await opsFor(c, who).revokeSession(c.req.param("session") ?? "", userId);
    return "session_revoked";
  });
  action("passkeys/:passkey/delete", async (c, who, userId) => {
    await opsFor(c, who).deleteCredential(userId, c.req.param("passkey") ?? "");
    return "passkey_deleted";
  });
  action("delete", async (c, who, userId, form) => {
    notYourself(who, userId);
    if (form.get("confirm") !== userId) return "confirm_mismatch";
    await opsFor(c, who).deleteUser(userId);
    return c.redirect("/console/users?m=user_deleted", 303);
  });
  for (const kind of ["enrollment", "recovery"] as const) {
    action(kind, async (c, who, userId) => {
      const ops = opsFor(c, who);
      const minted =
        kind === "recovery" ? await ops.mintRecovery(userId) : await ops.mintEnrollment(userId, {});
      const nonce = newNonce();
      const qr = await qrSvg(minted.url);
      return render(
        nonce,
        LinkPage({
          nonce,
          adminId: who.adminId,
          userId,
          kind,
          url: minted.url,
          expiresAt: minted.expires_at,
          qr,
        }),
      );
    });
  }
  return app;
}
