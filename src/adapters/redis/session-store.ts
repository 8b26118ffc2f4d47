/**
 * Sessions as hashes `session:<id>` (id = SHA-256 of the cookie token), indexed in
 * `user-sessions:<userId>`. The key TTL is the absolute lifetime at creation; the decision script
 * then keeps it at min(idle, time left). Index entries of expired sessions are dropped lazily.
 */
import type { Session } from "../../core/types.ts";
import type { NewSession, SessionStore } from "../../ports.ts";
import { newSessionToken, sessionIdFromToken } from "../../session/token.ts";
import {
  fieldsFromFlat,
  flattenFields,
  sessionFromFields,
  sessionPatchToFields,
  sessionToFields,
} from "./codec.ts";
import type { RedisContext } from "./context.ts";
import { newSession, rotatedSession } from "./session-record.ts";

const OWNER = "userId";

export function createRedisSessionStore({ client, keys, scripts, confirmation }: RedisContext): SessionStore {
  /** The absolute time-out counts from the session's createdAt (sign-in), not from this write. */
  async function insert(session: Session, absoluteTtlMs: number, now: number): Promise<void> {
    const expiresAt = session.createdAt + absoluteTtlMs;
    const fields = sessionToFields(session, expiresAt);
    await scripts.putIndexed(
      keys.session(session.id),
      keys.userSessionsPrefix,
      OWNER,
      session.id,
      Math.max(1, Math.floor(expiresAt - now)),
      flattenFields(fields),
    );
  }

  async function get(sessionId: string): Promise<Session | undefined> {
    return sessionFromFields(sessionId, await client.hgetall(keys.session(sessionId)));
  }

  return {
    async create(input: NewSession, now: number, absoluteTtlMs: number) {
      const token = newSessionToken();
      const session = newSession(sessionIdFromToken(token), input, now);
      await insert(session, absoluteTtlMs, now);
      return { token, session };
    },

    get,

    async rotate(sessionId: string, patch: Partial<NewSession>, now: number, absoluteTtlMs: number) {
      const confirm = confirmation.track(keys.session(sessionId));
      // Taking (read + delete) atomically means only one of two concurrent rotations wins.
      const taken = await scripts.takeIndexed(
        keys.session(sessionId),
        keys.userSessionsPrefix,
        OWNER,
        sessionId,
      );
      const old = sessionFromFields(sessionId, fieldsFromFlat(taken));
      if (old === undefined) return undefined;
      const token = newSessionToken();
      const session = rotatedSession(sessionIdFromToken(token), old, patch, now);
      await insert(session, absoluteTtlMs, now);
      await confirm();
      return { token, session };
    },

    async update(sessionId: string, patch: Partial<NewSession>) {
      const fields = flattenFields(sessionPatchToFields(patch));
      const confirm = confirmation.track(keys.session(sessionId));
      const updated = await scripts.patchIndexed(
        keys.session(sessionId),
        keys.userSessionsPrefix,
        OWNER,
        sessionId,
        fields,
      );
      await confirm();
      return updated === 1;
    },

    async delete(sessionId: string) {
      const confirm = confirmation.track(keys.session(sessionId));
      const taken = await scripts.takeIndexed(
        keys.session(sessionId),
        keys.userSessionsPrefix,
        OWNER,
        sessionId,
      );
      await confirm();
      return taken.length > 0;
    },

    async listByUser(userId: string) {
      const indexKey = keys.userSessions(userId);
      const ids = await client.smembers(indexKey);
      const sessions = await Promise.all(ids.map(get));
      const expired = ids.filter((_, i) => sessions[i] === undefined);
      if (expired.length > 0) await client.srem(indexKey, ...expired);
      return sessions.filter((session): session is Session => session !== undefined);
    },

    async deleteByUser(userId: string) {
      const confirm = confirmation.track(keys.userSessions(userId));
      const count = await scripts.deleteAllIndexed(keys.userSessions(userId), keys.sessionPrefix);
      await confirm();
      return count;
    },
  };
}
