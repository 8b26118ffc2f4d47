/**
 * Sessions as hashes `{u:<user>}:s:<hash>` (hash = SHA-256 of the cookie token), indexed in the
 * sorted set `{u:<user>}:sessions` by absolute expiry. The key TTL is the absolute lifetime at
 * creation; the decision script then keeps it at min(idle, time left). The index is pruned on
 * every insert, which also enforces the per-user cap (oldest sign-in revoked first).
 */
import type { Session } from "../../core/types.ts";
import type { NewSession, SessionPatch, SessionStore } from "../../ports.ts";
import { newSessionToken, parseSessionId, sessionIdFromToken, sessionIdOf } from "../../session/token.ts";
import {
  fieldsFromFlat,
  flattenFields,
  sessionFromFields,
  sessionPatchToFields,
  sessionToFields,
} from "./codec.ts";
import type { RedisContext } from "./context.ts";
import { STALE } from "./scripts.ts";
import { newSession, rotatedSession } from "./session-record.ts";

/** Attempts of an index script whose members keep changing under it (each is one round trip). */
const INDEX_ATTEMPTS = 20;

export function createRedisSessionStore({
  client,
  keys,
  scripts,
  maxSessionsPerUser,
  confirmation,
}: RedisContext): SessionStore {
  /**
   * Runs an index script with the index's current members and their keys; reads the index again
   * and retries while the script answers STALE (another write changed it in between).
   */
  async function withMembers(
    userId: string,
    run: (members: string[], memberKeys: string[]) => Promise<number>,
  ) {
    const index = keys.userSessions(userId);
    for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
      const members = await client.zrange(index, "0", "-1");
      const result = await run(
        members,
        members.map((hash) => keys.session(userId, hash)),
      );
      if (result !== STALE) return result;
    }
    throw new Error("the session index kept changing; try again");
  }

  /** The absolute time-out counts from the session's createdAt (sign-in), not from this write. */
  async function insert(session: Session, absoluteTtlMs: number, now: number): Promise<void> {
    const parsed = parseSessionId(session.id)!;
    const expiresAt = session.createdAt + absoluteTtlMs;
    const fields = flattenFields(sessionToFields(session, expiresAt));
    const index = keys.userSessions(session.userId);
    await withMembers(session.userId, (members, memberKeys) =>
      scripts.insertSession(
        [keys.session(session.userId, parsed.hash), index, ...memberKeys],
        [
          parsed.hash,
          expiresAt,
          Math.max(1, Math.floor(expiresAt - now)),
          maxSessionsPerUser,
          members.length,
          ...members,
          ...fields,
        ],
      ),
    );
  }

  async function get(sessionId: string): Promise<Session | undefined> {
    const parsed = parseSessionId(sessionId);
    if (parsed === undefined) return undefined;
    const session = sessionFromFields(
      sessionId,
      await client.hgetall(keys.session(parsed.userId, parsed.hash)),
    );
    // A session is only believed under the user its id names.
    return session?.userId === parsed.userId ? session : undefined;
  }

  return {
    async create(input: NewSession, now: number, absoluteTtlMs: number) {
      const token = newSessionToken(input.userId);
      const session = newSession(sessionIdFromToken(token), input, now);
      await insert(session, absoluteTtlMs, now);
      return { token, session };
    },

    get,

    async rotate(sessionId: string, patch: SessionPatch, now: number, absoluteTtlMs: number) {
      const parsed = parseSessionId(sessionId);
      if (parsed === undefined) return undefined;
      const { userId } = parsed;
      const token = newSessionToken(userId);
      const newId = sessionIdFromToken(token);
      const confirm = confirmation.track(keys.userSessions(userId));
      // Take the old session and insert the new one in one script: only one of two concurrent
      // rotations wins, and a concurrent "revoke all" cannot miss the new session.
      const taken = await scripts.rotateSession(
        [
          keys.session(userId, parsed.hash),
          keys.session(userId, parseSessionId(newId)!.hash),
          keys.userSessions(userId),
        ],
        [
          parsed.hash,
          parseSessionId(newId)!.hash,
          Math.floor(now),
          Math.floor(absoluteTtlMs),
          userId,
          ...flattenFields(sessionPatchToFields(patch)),
        ],
      );
      // A step-up's rotation is durable before the new session is handed out.
      await confirm();
      const old = sessionFromFields(sessionId, fieldsFromFlat(taken));
      if (old === undefined || old.userId !== userId || old.createdAt + absoluteTtlMs <= now)
        return undefined;
      return { token, session: rotatedSession(newId, old, patch, now) };
    },

    async update(sessionId: string, patch: SessionPatch) {
      const parsed = parseSessionId(sessionId);
      if (parsed === undefined) return false;
      const fields = flattenFields(sessionPatchToFields(patch));
      const key = keys.session(parsed.userId, parsed.hash);
      const confirm = confirmation.track(key);
      const updated = await scripts.patchHash(key, fields);
      await confirm();
      return updated === 1;
    },

    async delete(sessionId: string) {
      const parsed = parseSessionId(sessionId);
      if (parsed === undefined) return false;
      const { userId, hash } = parsed;
      const key = keys.session(userId, hash);
      const confirm = confirmation.track(key);
      const deleted = await scripts.deleteIndexed(key, keys.userSessions(userId), hash);
      await confirm();
      return deleted === 1;
    },

    async listByUser(userId: string) {
      const hashes = await client.zrange(keys.userSessions(userId), "0", "-1");
      const sessions = await Promise.all(hashes.map((hash) => get(sessionIdOf(userId, hash))));
      return sessions.filter((session): session is Session => session !== undefined);
    },

    async deleteByUser(userId: string) {
      const confirm = confirmation.track(keys.userSessions(userId));
      const count = await withMembers(userId, (members, memberKeys) =>
        scripts.deleteAllSessions([keys.userSessions(userId), ...memberKeys], members),
      );
      await confirm();
      return count;
    },
  };
}
