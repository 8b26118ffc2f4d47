/**
 * The decision's single round trip: one call of the decision Lua script (see scripts.ts), whose
 * flat reply is parsed here. Nothing else touches Redis on the decision path.
 */
import {
  type DecisionState,
  type DecisionStateQuery,
  type DecisionStateReader,
  ipReputationKey,
} from "../../ports.ts";
import { fieldsFromFlat, sessionFromFields, userFromFields } from "./codec.ts";
import type { RedisContext } from "./context.ts";
import { slidingCount, windowIndex } from "./sliding-window.ts";

export function createRedisDecisionStateReader({ keys, scripts }: RedisContext): DecisionStateReader {
  return {
    async read(query: DecisionStateQuery): Promise<DecisionState> {
      const now = Math.floor(query.now);
      const window = query.rateWindowMs;
      const current = window === undefined ? 0 : windowIndex(now, window);
      const reply = await scripts.decisionRead([
        query.sessionId === undefined ? "" : keys.session(query.sessionId),
        query.sessionId ?? "",
        keys.userSessionsPrefix,
        keys.userPrefix,
        query.userId ?? "",
        now,
        Math.floor(query.idleTimeoutMs),
        query.location === undefined ? "" : String(query.location.lat),
        query.location === undefined ? "" : String(query.location.lon),
        window === undefined ? "" : keys.ratePrefix,
        current,
        current - 1,
        window === undefined ? 0 : 2 * window,
        query.clientIp,
        keys.counter(ipReputationKey(query.clientIp)),
      ]);
      return parseReply(reply, query.sessionId, query.userId, now, window);
    },
  };
}

/** [n, session fields…, m, user fields…, sessionCur, sessionPrev, userCur, userPrev, ipCur, ipPrev, ipRep] */
function parseReply(
  reply: Array<string | number>,
  sessionId: string | undefined,
  queryUserId: string | undefined,
  now: number,
  window: number | undefined,
): DecisionState {
  let at = 0;
  const takeFields = () => {
    const length = Number(reply[at]);
    const flat = reply.slice(at + 1, at + 1 + length).map(String);
    at += 1 + length;
    return fieldsFromFlat(flat);
  };
  const takeNumber = () => Number(reply[at++] ?? 0);

  const sessionFields = takeFields();
  const session = sessionId === undefined ? undefined : sessionFromFields(sessionId, sessionFields);
  const userId = session?.userId ?? queryUserId;
  const userFields = takeFields();
  const user = userId === undefined ? undefined : userFromFields(userId, userFields);
  const weighted = () => {
    const currentCount = takeNumber();
    const previousCount = takeNumber();
    return window === undefined ? 0 : slidingCount(currentCount, previousCount, now, window);
  };
  const rate = { session: weighted(), user: weighted(), ip: weighted() };
  return { session, user, rate, ipReputation: takeNumber() };
}
