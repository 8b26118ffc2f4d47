/**
 * The admin verbs, transport-free: the admin API (routes.ts) and the CLI (src/cli/) both call
 * these, so the two can never disagree. Every change goes straight to the store that /auth reads
 * live on every request, which is what makes it effective on every replica at once.
 *
 * Errors are AdminError(status, code, message): 404 for unknown users, sessions and passkeys,
 * 400 for bad input. Enrollment links are secrets: returned, never logged.
 */
import type { AuditTrail } from "../audit/trail.ts";
import type { Config } from "../config/load.ts";
import type { Session, User } from "../core/types.ts";
import type { StoredCredential, Stores } from "../ports.ts";
import { mintEnrollment, revokeLinks } from "../webauthn/enrollment.ts";

export type RevokeCause = "admin" | "suspend" | "event";

export class AdminError extends Error {
  override name = "AdminError";
  constructor(
    readonly status: 400 | 404 | 409 | 413,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface AdminDeps {
  stores: Stores;
  config: Pick<Config, "publicOrigin" | "webauthn">;
  clock: () => number;
  /** Counts revoked sessions (vigil_sessions_revoked_total{cause}). */
  onRevoked?: (cause: RevokeCause, count: number) => void;
  /** Where every change (and every refused change) is recorded, bound to who is acting. */
  audit?: AuditTrail;
}

/** A session as admins see it: the public handle, never the cookie token. */
export interface SessionView {
  id: string;
  user: string;
  created_at: string;
  last_seen_at: string;
  ip: string;
  country: string;
  acr: string;
  amr: string[];
  auth_at: string;
  step_up_at: string | null;
}

export interface UserView {
  id: string;
  display_name: string;
  status: User["status"];
  groups: string[];
  created_at: string;
}

export interface CredentialView {
  id: string;
  label: string;
  device_type: StoredCredential["deviceType"];
  backed_up: boolean;
  transports: string[];
  counter: number;
  created_at: string;
  last_used_at: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export const toUserView = (user: User): UserView => ({
  id: user.id,
  display_name: user.displayName,
  status: user.status,
  groups: user.groups,
  created_at: iso(user.createdAt),
});

export const toSessionView = (session: Session): SessionView => ({
  id: session.id,
  user: session.userId,
  created_at: iso(session.createdAt),
  last_seen_at: iso(session.lastSeenAt),
  ip: session.ip,
  country: session.country,
  acr: session.acr,
  amr: session.amr,
  auth_at: iso(session.authAt),
  step_up_at: session.stepUpAt > 0 ? iso(session.stepUpAt) : null,
});

export const toCredentialView = (credential: StoredCredential): CredentialView => ({
  id: credential.id,
  label: credential.label,
  device_type: credential.deviceType,
  backed_up: credential.backedUp,
  transports: credential.transports,
  counter: credential.counter,
  created_at: iso(credential.createdAt),
  last_used_at: credential.lastUsedAt > 0 ? iso(credential.lastUsedAt) : null,
});

/** Group names end up in X-Auth-Groups joined by commas: no commas, spaces or control characters. */
export const GROUP_NAME = /^[^\s,\p{Cc}]{1,128}$/u;

export function validateGroups(groups: readonly string[]): string[] {
  const bad = groups.find((group) => !GROUP_NAME.test(group));
  if (bad !== undefined) {
    throw new AdminError(
      400,
      "invalid_groups",
      `invalid group name ${JSON.stringify(bad)}: 1-128 characters, no spaces, commas or control characters`,
    );
  }
  if (groups.length > 100) throw new AdminError(400, "invalid_groups", "at most 100 groups");
  return [...new Set(groups)];
}

export function createAdminOperations(deps: AdminDeps) {
  const { stores } = deps;
  const revoked = (cause: RevokeCause, count: number) => {
    if (count > 0) deps.onRevoked?.(cause, count);
  };

  /** Runs one change and writes its audit record: "ok" with `detail`, or the refusal's code. */
  async function audited<T>(
    action: string,
    target: string,
    work: () => Promise<T>,
    detail?: (result: T) => string | undefined,
  ): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (error) {
      const code = error instanceof AdminError ? error.code : "error";
      await deps.audit?.record({ action, target, result: code });
      throw error;
    }
    await deps.audit?.record({ action, target, result: "ok", detail: detail?.(result) });
    return result;
  }

  async function requireUser(userId: string): Promise<User> {
    const user = await stores.users.get(userId);
    if (!user) throw new AdminError(404, "user_not_found", `no user ${JSON.stringify(userId)}`);
    return user;
  }

  return {
    async listUsers(): Promise<UserView[]> {
      const users = await stores.users.list();
      return users.sort((a, b) => a.id.localeCompare(b.id)).map(toUserView);
    },

    async getUser(userId: string): Promise<UserView & { sessions: number; passkeys: number }> {
      const user = await requireUser(userId);
      const [sessions, credentials] = await Promise.all([
        stores.sessions.listByUser(userId),
        stores.credentials.listByUser(userId),
      ]);
      return { ...toUserView(user), sessions: sessions.length, passkeys: credentials.length };
    },

    async listSessions(userId: string): Promise<SessionView[]> {
      await requireUser(userId);
      const sessions = await stores.sessions.listByUser(userId);
      return sessions.sort((a, b) => b.lastSeenAt - a.lastSeenAt).map(toSessionView);
    },

    /** Revokes one session by its public handle (when `userId` is given, only one of that user's). */
    async revokeSession(sessionId: string, userId?: string): Promise<{ session: string; user: string }> {
      const target = userId ?? `session ${sessionId.slice(0, 16)}`;
      return audited(
        "revoke_session",
        target,
        async () => {
          const session = await stores.sessions.get(sessionId);
          if (!session) {
            // "No such session" must be as durable as "revoked": deleting it again waits for the
            // replicas like any revoke, so a just-demoted primary answers 503 here, never 404.
            await stores.sessions.delete(sessionId);
            throw new AdminError(404, "session_not_found", "no such session");
          }
          if (userId !== undefined && session.userId !== userId) {
            throw new AdminError(404, "session_not_found", "no such session");
          }
          if (!(await stores.sessions.delete(sessionId))) {
            throw new AdminError(404, "session_not_found", "no such session");
          }
          revoked("admin", 1);
          return { session: sessionId, user: session.userId };
        },
        (r) => `user ${r.user}, session ${r.session.slice(0, 16)}`,
      );
    },

    async revokeUserSessions(userId: string, cause: RevokeCause = "admin"): Promise<{ revoked: number }> {
      return audited(
        "revoke_user_sessions",
        userId,
        async () => {
          await requireUser(userId);
          const count = await stores.sessions.deleteByUser(userId);
          revoked(cause, count);
          return { revoked: count };
        },
        (r) => `revoked ${r.revoked}`,
      );
    },

    /**
     * Suspends the user: from the next request on every replica, each of their sessions and tokens
     * answers 403 user_suspended (the status is read live on every decision). The sessions are
     * kept, so the answer and the decision log name the cause; resume ends them.
     */
    async suspend(userId: string): Promise<UserView & { sessions: number }> {
      return audited(
        "suspend",
        userId,
        async () => {
          await requireUser(userId);
          await stores.users.update(userId, { status: "suspended" });
          const sessions = await stores.sessions.listByUser(userId);
          return { ...toUserView(await requireUser(userId)), sessions: sessions.length };
        },
        (r) => `sessions ${r.sessions}`,
      );
    },

    /**
     * Lifts a suspension, ending every session the user had first: one atomic delete while the
     * user is still suspended (sign-in refuses a suspended user, so none is added in between),
     * then the status. A session from before or during the suspension never comes back to life;
     * the user signs in again. Resuming an active user changes nothing.
     */
    async resume(userId: string): Promise<UserView & { revoked: number }> {
      return audited(
        "resume",
        userId,
        async () => {
          const user = await requireUser(userId);
          if (user.status === "active") return { ...toUserView(user), revoked: 0 };
          const count = await stores.sessions.deleteByUser(userId);
          revoked("suspend", count);
          await stores.users.update(userId, { status: "active" });
          return { ...toUserView(await requireUser(userId)), revoked: count };
        },
        (r) => `revoked ${r.revoked}`,
      );
    },

    async setGroups(userId: string, groups: readonly string[]): Promise<UserView> {
      return audited(
        "set_groups",
        userId,
        async () => {
          const clean = validateGroups(groups);
          await requireUser(userId);
          if (!(await stores.users.update(userId, { groups: clean }))) {
            throw new AdminError(404, "user_not_found", `no user ${JSON.stringify(userId)}`);
          }
          return toUserView(await requireUser(userId));
        },
        (r) => `groups ${r.groups.join(",")}`,
      );
    },

    async listCredentials(userId: string): Promise<CredentialView[]> {
      await requireUser(userId);
      const credentials = await stores.credentials.listByUser(userId);
      return credentials.sort((a, b) => a.createdAt - b.createdAt).map(toCredentialView);
    },

    async deleteCredential(userId: string, credentialId: string): Promise<{ deleted: string }> {
      return audited(
        "delete_passkey",
        userId,
        async () => {
          await requireUser(userId);
          const credential = await stores.credentials.get(credentialId);
          if (
            !credential ||
            credential.userId !== userId ||
            !(await stores.credentials.delete(credentialId))
          ) {
            throw new AdminError(
              404,
              "passkey_not_found",
              `user ${JSON.stringify(userId)} has no such passkey`,
            );
          }
          return { deleted: credentialId };
        },
        (r) => `passkey ${r.deleted.slice(0, 16)}`,
      );
    },

    /**
     * Mints a one-time enrollment link, creating the user (active, with `groups`) when missing.
     * An existing user keeps their status and groups (use setGroups to change them).
     */
    async mintEnrollment(
      userId: string,
      input: { groups?: string[] | undefined; displayName?: string | undefined },
    ): Promise<{ url: string; expires_at: string; user: UserView }> {
      return audited(
        "mint_enrollment",
        userId,
        async () => {
          const groups = input.groups ? validateGroups(input.groups) : undefined;
          let minted: Awaited<ReturnType<typeof mintEnrollment>>;
          try {
            minted = await mintEnrollment(
              { stores, config: deps.config },
              { userId, groups, displayName: input.displayName },
              deps.clock(),
            );
          } catch (error) {
            if ((error as Error).message.startsWith("mintEnrollment:")) {
              throw new AdminError(
                400,
                "invalid_user",
                (error as Error).message.replace(/^mintEnrollment: /, ""),
              );
            }
            throw error;
          }
          return {
            url: minted.url,
            expires_at: iso(minted.expiresAt),
            user: toUserView(await requireUser(userId)),
          };
        },
        // The link itself is a secret: never in a record.
        (r) => `expires ${r.expires_at}`,
      );
    },

    /**
     * A recovery link for a user who lost their passkeys: single use, valid webauthn.recovery_ttl,
     * and every earlier link of the user stops working. Only for an active user (resume first).
     */
    async mintRecovery(userId: string): Promise<{ url: string; expires_at: string; user: UserView }> {
      return audited(
        "mint_recovery",
        userId,
        async () => {
          const user = await requireUser(userId);
          if (user.status !== "active") {
            throw new AdminError(409, "user_suspended", "the user is suspended: resume them first");
          }
          const minted = await mintEnrollment(
            { stores, config: deps.config },
            { userId, ttlMs: deps.config.webauthn.recovery_ttl, revokeEarlierLinks: true },
            deps.clock(),
          );
          return { url: minted.url, expires_at: iso(minted.expiresAt), user: toUserView(user) };
        },
        // The link itself is a secret: never in a record.
        (r) => `expires ${r.expires_at}`,
      );
    },

    /**
     * Deletes a user: refused everywhere at once (suspended first), then their sessions, passkeys,
     * outstanding links and record are removed. The audit trail keeps the record of it.
     */
    async deleteUser(userId: string): Promise<{ deleted: string; sessions: number; passkeys: number }> {
      return audited(
        "delete_user",
        userId,
        async () => {
          await requireUser(userId);
          await stores.users.update(userId, { status: "suspended" });
          const sessions = await stores.sessions.deleteByUser(userId);
          revoked("admin", sessions);
          let passkeys = 0;
          for (const credential of await stores.credentials.listByUser(userId)) {
            if (await stores.credentials.delete(credential.id)) passkeys++;
          }
          await revokeLinks(stores, userId);
          await stores.users.delete(userId);
          return { deleted: userId, sessions, passkeys };
        },
        (r) => `sessions ${r.sessions}, passkeys ${r.passkeys}`,
      );
    },
  };
}

export type AdminOperations = ReturnType<typeof createAdminOperations>;
