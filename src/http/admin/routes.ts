/**
 * The admin API under /admin/*. Transport only: the verbs live in src/admin/operations.ts (shared with the CLI).
 *
 * - `Authorization: Bearer <admin.token>` (VIGIL_ADMIN_TOKEN), compared in constant time on the
 *   SHA-256 of both sides (equal lengths, no early exit). With no admin.token configured every
 *   /admin/* path answers 404, as if the API did not exist.
 * - Every call writes one audit line (action, target user/session, result, status): never the
 *   token, never an enrollment link.
 * - Errors are JSON `{error, message}`: 401 (with WWW-Authenticate), 400 for bad bodies, 404 for
 *   unknown users, sessions and passkeys, 503 (with Retry-After) while the store is down or a
 *   change was not confirmed by Redis replicas: nothing is reported done that may be lost.
 * - Each route is described in contract.ts: a new route goes there too (a test checks), and so into
 *   the OpenAPI document (GET /admin/openapi.json) and docs/admin-api.md.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { type Context, Hono } from "hono";
import type { z } from "zod";
import { AdminError, type AdminOperations, createAdminOperations } from "../../admin/operations.ts";
import { type AuditActor, createAuditTrail } from "../../audit/trail.ts";
import type { Config } from "../../config/load.ts";
import type { Logger } from "../../observe/logger.ts";
import type { Metrics } from "../../observe/metrics.ts";
import type { Stores } from "../../ports.ts";
import { isStoreFailure, storeFailureBody } from "../../store-errors.ts";
import type { AppEnv } from "../app-env.ts";
import { readBodyText } from "../read-body.ts";
import { enrollmentBody, groupsBody } from "./contract.ts";
import { adminOpenApiDocument } from "./openapi.ts";

export interface AdminRouteDeps {
  config: Config;
  stores: Stores;
  clock: () => number;
  logger: Logger;
  metrics: Metrics;
}

const NO_STORE = { "cache-control": "no-store" };
const MAX_BODY_BYTES = 16 * 1024;

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** Constant-time bearer check: hashing both sides gives equal-length buffers whatever the input. */
export function adminTokenMatches(header: string | undefined, expected: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  const presented = match?.[1] ?? "";
  // Always compare (even when the header is missing) so timing does not tell the cases apart.
  const equal = timingSafeEqual(sha256(presented), sha256(expected));
  return equal && presented !== "";
}

type Audit = { action: string; user?: string | undefined; session?: string | undefined };

/** The admin API as a sub-app, mounted at the root (its paths are absolute: /admin/...). */
/**
 * The admin verbs as one caller of the server (the API's token, a console admin): revocations
 * counted in the metrics, every change audited as `actor`.
 */
export function adminOperationsFor(deps: AdminRouteDeps, actor: AuditActor): AdminOperations {
  return createAdminOperations({
    stores: deps.stores,
    config: deps.config,
    clock: deps.clock,
    onRevoked: (cause, count) => deps.metrics.sessionsRevoked.inc({ cause }, count),
    audit: createAuditTrail(deps.stores.audit, deps.logger, actor, deps.clock),
  });
}

export function adminRoutes(deps: AdminRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { config, logger } = deps;
  /** The verbs as this request's caller: every change is audited as the admin token, from its address. */
  const opsFor = (c: Context): AdminOperations =>
    adminOperationsFor(deps, { actor: "admin-token", via: "api", ip: c.env?.peer ?? "" });

  app.use("/admin/*", async (c, next) => {
    const token = config.admin.token;
    if (!token) return c.json({ error: "not_found" }, 404);
    if (!adminTokenMatches(c.req.header("authorization"), token)) {
      logger.warn(
        { audit: "admin", method: c.req.method, path: c.req.path, result: "unauthorized", ip: c.env?.peer },
        "admin call refused",
      );
      return c.json({ error: "unauthorized", message: "a valid admin bearer token is required" }, 401, {
        ...NO_STORE,
        "www-authenticate": 'Bearer realm="vigil-admin"',
      });
    }
    await next();
  });

  /** Runs one verb: audit line, JSON answer, AdminError → status. */
  async function run(
    c: Context<AppEnv>,
    audit: Audit,
    work: () => Promise<unknown>,
    status: 200 | 201 = 200,
  ): Promise<Response> {
    const started = performance.now();
    const log = (result: string, code: number, extra: Record<string, unknown> = {}) =>
      logger.info(
        {
          audit: "admin",
          action: audit.action,
          user: audit.user,
          session: audit.session?.slice(0, 16),
          result,
          status: code,
          ip: c.env?.peer,
          latency_ms: Math.round(performance.now() - started),
          ...extra,
        },
        "admin action",
      );
    try {
      const body = await work();
      log("ok", status);
      return c.json(body as object, status, NO_STORE);
    } catch (error) {
      if (error instanceof AdminError) {
        log(error.code, error.status);
        return c.json({ error: error.code, message: error.message }, error.status, NO_STORE);
      }
      if (isStoreFailure(error)) {
        log(error.reason, 503, { err: error.message });
        return c.json(storeFailureBody(error), 503, { ...NO_STORE, "retry-after": "1" });
      }
      log("error", 500, { err: (error as Error).message });
      return c.json(
        {
          error: "internal_error",
          message: "the store did not answer; nothing was changed or the change is unknown",
        },
        500,
        NO_STORE,
      );
    }
  }

  /** Reads and validates a JSON body; AdminError 400 otherwise. */
  async function body<T>(c: Context<AppEnv>, schema: z.ZodType<T>, optional = false): Promise<T> {
    const read = await readBodyText(c.req.raw, MAX_BODY_BYTES);
    if (!read.ok) throw new AdminError(413, "body_too_large", `the body is larger than ${read.limit} bytes`);
    const text = read.text;
    if (text.trim() === "" && optional) return schema.parse({});
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new AdminError(400, "invalid_body", "the body must be JSON");
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
      throw new AdminError(400, "invalid_body", `${where}${issue?.message ?? "invalid body"}`);
    }
    return parsed.data;
  }

  // The contract of every route here (contract.ts), behind the token like the routes themselves.
  const openApi = adminOpenApiDocument();
  app.get("/admin/openapi.json", (c) => run(c, { action: "openapi" }, async () => openApi));

  app.get("/admin/users", (c) =>
    run(c, { action: "list_users" }, async () => ({ users: await opsFor(c).listUsers() })),
  );

  app.get("/admin/users/:user", (c) => {
    const user = c.req.param("user");
    return run(c, { action: "get_user", user }, async () => ({ user: await opsFor(c).getUser(user) }));
  });

  app.get("/admin/users/:user/sessions", (c) => {
    const user = c.req.param("user");
    return run(c, { action: "list_sessions", user }, async () => ({
      sessions: await opsFor(c).listSessions(user),
    }));
  });

  app.delete("/admin/users/:user/sessions", (c) => {
    const user = c.req.param("user");
    return run(c, { action: "revoke_user_sessions", user }, () =>
      opsFor(c).revokeUserSessions(user, "admin"),
    );
  });

  app.delete("/admin/sessions/:id", (c) => {
    const session = c.req.param("id");
    const audit: Audit = { action: "revoke_session", session };
    return run(c, audit, async () => {
      const result = await opsFor(c).revokeSession(session);
      audit.user = result.user;
      return { revoked: 1, ...result };
    });
  });

  app.post("/admin/users/:user/suspend", (c) => {
    const user = c.req.param("user");
    return run(c, { action: "suspend", user }, async () => {
      const { sessions, ...view } = await opsFor(c).suspend(user);
      return { user: view, sessions };
    });
  });

  app.post("/admin/users/:user/resume", (c) => {
    const user = c.req.param("user");
    return run(c, { action: "resume", user }, async () => {
      const { revoked, ...view } = await opsFor(c).resume(user);
      return { user: view, revoked };
    });
  });

  app.put("/admin/users/:user/groups", (c) => {
    const user = c.req.param("user");
    return run(c, { action: "set_groups", user }, async () => {
      const { groups } = await body(c, groupsBody);
      return { user: await opsFor(c).setGroups(user, groups) };
    });
  });

  app.get("/admin/users/:user/credentials", (c) => {
    const user = c.req.param("user");
    return run(c, { action: "list_passkeys", user }, async () => ({
      credentials: await opsFor(c).listCredentials(user),
    }));
  });

  app.delete("/admin/users/:user/credentials/:id", (c) => {
    const user = c.req.param("user");
    const id = c.req.param("id");
    return run(c, { action: "delete_passkey", user }, () => opsFor(c).deleteCredential(user, id));
  });

  app.post("/admin/users/:user/enrollments", (c) => {
    const user = c.req.param("user");
    return run(
      c,
      { action: "mint_enrollment", user },
      async () => {
        const input = await body(c, enrollmentBody, true);
        // The link is a secret: it goes to the caller only (the audit line never holds it).
        return opsFor(c).mintEnrollment(user, {
          groups: input.groups,
          displayName: input.displayName ?? input.display_name,
        });
      },
      201,
    );
  });

  app.delete("/admin/users/:user", (c) => {
    const user = c.req.param("user");
    return run(c, { action: "delete_user", user }, () => opsFor(c).deleteUser(user));
  });

  app.post("/admin/users/:user/recovery", (c) => {
    const user = c.req.param("user");
    // The link is a secret: it goes to the caller only (the audit line never holds it).
    return run(c, { action: "mint_recovery", user }, () => opsFor(c).mintRecovery(user), 201);
  });

  app.all("/admin/*", (c) =>
    c.json({ error: "not_found", message: "no such admin endpoint" }, 404, NO_STORE),
  );
  return app;
}
