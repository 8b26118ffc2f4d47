/** In-memory sessions, same semantics as the Redis store (absolute TTL at creation, lazy index). */
import type { Session } from "../../core/types.ts";
import type { NewSession, SessionStore } from "../../ports.ts";
import { newSessionToken, sessionIdFromToken } from "../../session/token.ts";
import { newSession, rotatedSession } from "../redis/session-record.ts";
import { copySession, indexAdd, indexRemove, type MemoryState } from "./memory-state.ts";

export function createMemorySessionStore(state: MemoryState): SessionStore {
  /** The absolute time-out counts from the session's createdAt (sign-in), not from this write. */
  function insert(session: Session, absoluteTtlMs: number, now: number): void {
    const expiresAt = session.createdAt + absoluteTtlMs;
    state.sessions.set(
      session.id,
      { session: copySession(session), expiresAt },
      Math.max(1, expiresAt - now),
    );
    indexAdd(state.userSessions, session.userId, session.id);
  }

  function remove(sessionId: string): Session | undefined {
    const record = state.sessions.get(sessionId);
    if (record === undefined) return undefined;
    state.sessions.delete(sessionId);
    indexRemove(state.userSessions, record.session.userId, sessionId);
    return record.session;
  }

  const get = async (sessionId: string) => {
    const record = state.sessions.get(sessionId);
    return record === undefined ? undefined : copySession(record.session);
  };

  return {
    async create(input: NewSession, now: number, absoluteTtlMs: number) {
      const token = newSessionToken();
      const session = newSession(sessionIdFromToken(token), input, now);
      insert(session, absoluteTtlMs, now);
      return { token, session: copySession(session) };
    },

    get,

    async rotate(sessionId, patch, now, absoluteTtlMs) {
      const old = remove(sessionId);
      if (old === undefined) return undefined;
      const token = newSessionToken();
      const session = rotatedSession(sessionIdFromToken(token), old, patch, now);
      insert(session, absoluteTtlMs, now);
      return { token, session: copySession(session) };
    },

    async update(sessionId, patch) {
      const record = state.sessions.get(sessionId);
      if (record === undefined) return false;
      const before = record.session.userId;
      record.session = {
        ...record.session,
        ...definedOnly(patch),
        amr: [...(patch.amr ?? record.session.amr)],
      };
      if (record.session.userId !== before) {
        indexRemove(state.userSessions, before, sessionId);
        indexAdd(state.userSessions, record.session.userId, sessionId);
      }
      return true;
    },

    async delete(sessionId) {
      return remove(sessionId) !== undefined;
    },

    async listByUser(userId) {
      const sessions: Session[] = [];
      for (const id of [...(state.userSessions.get(userId) ?? [])]) {
        const record = state.sessions.get(id);
        if (record === undefined) indexRemove(state.userSessions, userId, id);
        else sessions.push(copySession(record.session));
      }
      return sessions;
    },

    async deleteByUser(userId) {
      let deleted = 0;
      for (const id of [...(state.userSessions.get(userId) ?? [])]) {
        if (state.sessions.delete(id)) deleted++;
      }
      state.userSessions.delete(userId);
      return deleted;
    },
  };
}

/** A patch without its undefined members, so spreading it never blanks a field. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}
