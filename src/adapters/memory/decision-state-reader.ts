/**
 * In-memory decision read, step for step the Redis decision script: expire a dead session, bump
 * lastSeen/location and the TTL of a live one (returning it as it was before), read the user,
 * count the request in the sliding windows, read the IP reputation.
 */
import {
  type DecisionState,
  type DecisionStateQuery,
  type DecisionStateReader,
  ipReputationKey,
} from "../../ports.ts";
import { slidingCount, windowIndex } from "../redis/sliding-window.ts";
import { copySession, copyUser, indexRemove, type MemoryState } from "./memory-state.ts";

export function createMemoryDecisionStateReader(state: MemoryState): DecisionStateReader {
  function touchSession(query: DecisionStateQuery) {
    if (query.sessionId === undefined) return undefined;
    const record = state.sessions.get(query.sessionId);
    if (record === undefined) return undefined;
    const { now, idleTimeoutMs } = query;
    if (record.expiresAt <= now || now - record.session.lastSeenAt > idleTimeoutMs) {
      state.sessions.delete(query.sessionId);
      indexRemove(state.userSessions, record.session.userId, query.sessionId);
      return undefined;
    }
    const before = copySession(record.session);
    record.session.lastSeenAt = now;
    if (query.location !== undefined) {
      record.session.lastLat = query.location.lat;
      record.session.lastLon = query.location.lon;
      record.session.lastLocatedAt = now;
    }
    state.sessions.expire(query.sessionId, Math.min(idleTimeoutMs, record.expiresAt - now));
    return before;
  }

  function count(query: DecisionStateQuery, scope: string, id: string | undefined): number {
    const window = query.rateWindowMs;
    if (window === undefined || id === undefined || id === "") return 0;
    const current = windowIndex(query.now, window);
    const key = `${scope}:${id}:${current}`;
    const currentCount = (state.rate.get(key) ?? 0) + 1;
    state.rate.set(key, currentCount, 2 * window);
    const previousCount = state.rate.get(`${scope}:${id}:${current - 1}`) ?? 0;
    return slidingCount(currentCount, previousCount, query.now, window);
  }

  return {
    async read(query: DecisionStateQuery): Promise<DecisionState> {
      const session = touchSession(query);
      const userId = session?.userId ?? query.userId;
      const user = userId === undefined ? undefined : state.users.get(userId);
      return {
        session,
        user: user === undefined ? undefined : copyUser(user),
        rate: {
          session: count(query, "session", session?.id),
          user: count(query, "user", userId),
          ip: count(query, "ip", query.clientKey),
        },
        ipReputation: state.counters.get(ipReputationKey(query.clientKey)) ?? 0,
      };
    },
  };
}
