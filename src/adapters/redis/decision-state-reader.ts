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
import { type HashFields, sessionFromFields, userFromFields } from "./codec.ts";
import type { RedisContext } from "./context.ts";
import { DECISION_SESSION_FIELDS, DECISION_USER_FIELDS } from "./scripts.ts";
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

type Value = string | false | null;

/** Values of an HMGET in `names` order → the fields that exist (what HGETALL would have given). */
function fieldsOf(names: readonly string[], values: unknown): HashFields {
  const fields: HashFields = {};
  if (!Array.isArray(values)) return fields; // cjson writes an empty list as {}
  for (let i = 0; i < names.length; i++) {
    const value = values[i] as Value;
    if (typeof value === "string") fields[names[i]!] = value;
  }
  return fields;
}

/** {"s":[session values],"u":[user values],"c":[sessionCur, sessionPrev, userCur, userPrev, ipCur, ipPrev, ipRep]} */
function parseReply(
  reply: string,
  sessionId: string | undefined,
  queryUserId: string | undefined,
  now: number,
  window: number | undefined,
): DecisionState {
  const parsed = JSON.parse(reply) as { s: unknown; u: unknown; c: unknown };
  const session =
    sessionId === undefined
      ? undefined
      : sessionFromFields(sessionId, fieldsOf(DECISION_SESSION_FIELDS, parsed.s));
  const userId = session?.userId ?? queryUserId;
  const user =
    userId === undefined ? undefined : userFromFields(userId, fieldsOf(DECISION_USER_FIELDS, parsed.u));
  const counts = Array.isArray(parsed.c) ? parsed.c : [];
  const count = (i: number) => {
    const value = Number(counts[i] ?? 0);
    return Number.isFinite(value) ? value : 0;
  };
  const weighted = (i: number) =>
    window === undefined ? 0 : slidingCount(count(i), count(i + 1), now, window);
  const rate = { session: weighted(0), user: weighted(2), ip: weighted(4) };
  return { session, user, rate, ipReputation: count(6) };
}
