/**
 * What a signed-in person may do to their own account: list and name their passkeys, delete one
 * (never the last: it is their only way in), see their sessions and end any of them. Transport-free;
 * every change is audited (via "account", the user as actor) and goes straight to the stores /auth
 * reads, so a session ended here is refused on the next request, as when an admin revokes it.
 */
import type { AuditTrail } from "../audit/trail.ts";
import type { Session } from "../core/types.ts";
import type { StoredCredential, Stores } from "../ports.ts";

export type AccountErrorCode =
  | "passkey_not_found"
  | "session_not_found"
  | "last_passkey"
  | "invalid_name"
  | "credential_exists";

export class AccountError extends Error {
  override name = "AccountError";
  constructor(
    readonly code: AccountErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_PASSKEY_NAME = 64;

/** A passkey name: 1-64 characters after trimming, no control characters. */
export function cleanPasskeyName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0 || name.length > MAX_PASSKEY_NAME || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new AccountError("invalid_name", `A passkey name is 1 to ${MAX_PASSKEY_NAME} characters.`);
  }
  return name;
}

export interface AccountDeps {
  stores: Pick<Stores, "credentials" | "sessions">;
  audit?: AuditTrail | undefined;
  /** Counts ended sessions (vigil_sessions_revoked_total{cause="user"}). */
  onRevoked?: (count: number) => void;
}

export function createAccountOperations(deps: AccountDeps, userId: string) {
  const { stores } = deps;

  async function audited<T>(action: string, work: () => Promise<T>, detail?: (r: T) => string): Promise<T> {
    try {
      const result = await work();
      await deps.audit?.record({ action, target: userId, result: "ok", detail: detail?.(result) });
      return result;
    } catch (error) {
      const code = error instanceof AccountError ? error.code : "error";
      await deps.audit?.record({ action, target: userId, result: code });
      throw error;
    }
  }

  async function ownPasskey(credentialId: string): Promise<StoredCredential> {
    const credential = await stores.credentials.get(credentialId);
    if (credential === undefined || credential.userId !== userId) {
      throw new AccountError("passkey_not_found", "That passkey is not one of yours (or is already gone).");
    }
    return credential;
  }

  return {
    async passkeys(): Promise<StoredCredential[]> {
      return (await stores.credentials.listByUser(userId)).sort((a, b) => a.createdAt - b.createdAt);
    },

    async sessions(): Promise<Session[]> {
      return (await stores.sessions.listByUser(userId)).sort((a, b) => b.lastSeenAt - a.lastSeenAt);
    },

    /** Stores a passkey the user just registered (a verified ceremony of their own session). */
    addPasskey(credential: StoredCredential): Promise<void> {
      return audited(
        "add_passkey",
        async () => {
          if (credential.userId !== userId) throw new Error("addPasskey: the credential is another user's");
          if (!(await stores.credentials.add(credential))) {
            throw new AccountError("credential_exists", "This passkey is already registered.");
          }
        },
        () => `passkey ${credential.id.slice(0, 16)}`,
      );
    },

    renamePasskey(credentialId: string, rawName: string): Promise<string> {
      return audited(
        "rename_passkey",
        async () => {
          const name = cleanPasskeyName(rawName);
          await ownPasskey(credentialId);
          if (!(await stores.credentials.rename(credentialId, name))) {
            throw new AccountError("passkey_not_found", "That passkey is already gone.");
          }
          return name;
        },
        () => `passkey ${credentialId.slice(0, 16)}`,
      );
    },

    deletePasskey(credentialId: string): Promise<void> {
      return audited(
        "delete_passkey",
        async () => {
          await ownPasskey(credentialId);
          if ((await stores.credentials.listByUser(userId)).length < 2) {
            throw new AccountError(
              "last_passkey",
              "This is your only passkey: add another one before you delete it, or you could not sign in again.",
            );
          }
          if (!(await stores.credentials.delete(credentialId))) {
            throw new AccountError("passkey_not_found", "That passkey is already gone.");
          }
        },
        () => `passkey ${credentialId.slice(0, 16)}`,
      );
    },

    endSession(sessionId: string): Promise<void> {
      return audited(
        "end_session",
        async () => {
          const session = await stores.sessions.get(sessionId);
          if (
            session === undefined ||
            session.userId !== userId ||
            !(await stores.sessions.delete(sessionId))
          ) {
            throw new AccountError("session_not_found", "That session has already ended.");
          }
          deps.onRevoked?.(1);
        },
        () => `session ${sessionId.slice(0, 16)}`,
      );
    },

    /** Ends every session of the user but `currentSessionId`; returns how many ended. */
    endOtherSessions(currentSessionId: string): Promise<number> {
      return audited(
        "end_other_sessions",
        async () => {
          let ended = 0;
          for (const session of await stores.sessions.listByUser(userId)) {
            if (session.id !== currentSessionId && (await stores.sessions.delete(session.id))) ended++;
          }
          if (ended > 0) deps.onRevoked?.(ended);
          return ended;
        },
        (ended) => `ended ${ended}`,
      );
    },
  };
}

export type AccountOperations = ReturnType<typeof createAccountOperations>;
