/**
 * In-memory sessions, same semantics as the Redis store: absolute TTL at creation, the index
 * pruned on insert and capped per user (oldest sign-in revoked first).
 */
import type { Session } from "../../core/types.ts";
import { DEFAULT_MAX_SESSIONS_PER_USER, type NewSession, type SessionStore } from "../../ports.ts";
import { newSessionToken, sessionIdFromToken } from "../../session/token.ts";
import { newSession, rotatedSession } from "../redis/session-record.ts";
import { copySession, indexAdd, indexRemove, type MemoryState } from "./memory-state.ts";

export function createMemorySessionStore(
  state: MemoryState,
  maxSessionsPerUser = DEFAULT_MAX_SESSIONS_PER_USER,
): SessionStore {
  /** Drops ended sessions from the user's index, then revokes the oldest until one more fits. */
  function makeRoom(userId: string): void {
    const live = [...(state.userSessions.get(userId) ?? [])].flatMap((id) => {
      const record = state.sessions.get(id);
      if (record === undefined) indexRemove(state.userSessions, userId, id);
      return record === undefined ? [] : [{ id, expiresAt: record.expiresAt }];
    });
    // Ordered by absolute expiry, i.e. by sign-in time, as the Redis index is.
    live.sort((a, b) => a.expiresAt - b.expiresAt);
    while (live.length >= maxSessionsPerUser) remove(live.shift()!.id);
  }

  /** The absolute time-out counts from the session's createdAt (sign-in), not from this write. */
  function insert(session: Session, absoluteTtlMs: number, now: number): void {
    makeRoom(session.userId);
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
      const token = newSessionToken(input.userId);
      const session = newSession(sessionIdFromToken(token), input, now);
      insert(session, absoluteTtlMs, now);
      return { token, session: copySession(session) };
    },

    get,

    async rotate(sessionId, patch, now, absoluteTtlMs) {
      const old = remove(sessionId);
      if (old === undefined) return undefined;
      const token = newSessionToken(old.userId);
      const session = rotatedSession(sessionIdFromToken(token), old, patch, now);
      insert(session, absoluteTtlMs, now);
      return { token, session: copySession(session) };
    },

    async update(sessionId, patch) {
      const record = state.sessions.get(sessionId);
      if (record === undefined) return false;
      record.session = {
        ...record.session,
        ...definedOnly(patch),
        amr: [...(patch.amr ?? record.session.amr)],
      };
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
