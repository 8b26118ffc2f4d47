/**
 * The decision's single round trip: one call of the decision Lua script (see scripts.ts), whose
 * flat reply is parsed here. Nothing else touches Redis on the decision path.
 */

import type { Session, User } from "../../core/types.ts";
import type { DecisionState, DecisionStateQuery, DecisionStateReader } from "../../ports.ts";
import { decodeInt, decodeNumber, parseGroups } from "./codec.ts";
import type { RedisContext } from "./context.ts";
import { DECISION_SESSION_FIELDS, DECISION_USER_FIELDS } from "./scripts.ts";
import { slidingCount } from "./sliding-window.ts";

export function createRedisDecisionStateReader({ scripts }: RedisContext): DecisionStateReader {
  return {
    async read(query: DecisionStateQuery): Promise<DecisionState> {
      const now = Math.floor(query.now);
      const window = query.rateWindowMs;
      // Strings only (the script's ARGV; see decisionScript): the script stores `now` as text.
      const reply = await scripts.decisionRead([
        query.sessionId ?? "",
        query.userId ?? "",
        String(now),
        String(Math.floor(query.idleTimeoutMs)),
        query.location === undefined ? "" : String(query.location.lat),
        query.location === undefined ? "" : String(query.location.lon),
        window === undefined ? "" : String(window),
        query.clientKey,
      ]);
      return parseReply(reply, query.sessionId, query.userId, now, window);
    },
  };
}

/** An HMGET value as cjson hands it over: a string, or false for a missing field. */
const text = (values: readonly unknown[], i: number): string | undefined => {
  const value = values[i];
  return typeof value === "string" ? value : undefined;
};

const S = fieldIndexes(DECISION_SESSION_FIELDS);
const U = fieldIndexes(DECISION_USER_FIELDS);

function fieldIndexes<const N extends string>(names: readonly N[]): Record<N, number> {
  const indexes = {} as Record<N, number>;
  names.forEach((name, i) => {
    indexes[name] = i;
  });
  return indexes;
}

/**
 * sessionFromFields over the HMGET values in DECISION_SESSION_FIELDS order, without building the
 * intermediate field object: same defaults, same decoding (codec.ts).
 */
function sessionFromValues(id: string, values: unknown): Session | undefined {
  if (!Array.isArray(values)) return undefined; // cjson writes an empty list as {}
  const userId = text(values, S.userId);
  if (userId === undefined) return undefined;
  const amr = text(values, S.amr);
  return {
    id,
    userId,
    acr: text(values, S.acr) ?? "",
    amr: amr ? amr.split(",") : [],
    authAt: decodeInt(text(values, S.authAt)),
    stepUpAt: decodeInt(text(values, S.stepUpAt)),
    ip: text(values, S.ip) ?? "",
    country: text(values, S.country) ?? "",
    uaHash: text(values, S.uaHash) ?? "",
    lastLat: decodeNumber(text(values, S.lastLat)),
    lastLon: decodeNumber(text(values, S.lastLon)),
    lastLocatedAt: decodeInt(text(values, S.lastLocatedAt)),
    lastSeenAt: decodeInt(text(values, S.lastSeenAt)),
    createdAt: decodeInt(text(values, S.createdAt)),
  };
}

/** userFromFields over the HMGET values in DECISION_USER_FIELDS order (undefined when none exists). */
function userFromValues(id: string, values: unknown): User | undefined {
  if (!Array.isArray(values)) return undefined;
  let any = false;
  for (let i = 0; i < DECISION_USER_FIELDS.length && !any; i++) any = typeof values[i] === "string";
  if (!any) return undefined;
  return {
    id,
    displayName: text(values, U.displayName) ?? id,
    // Anything but an explicit "active" is treated as suspended: fail closed on a damaged record.
    status: text(values, U.status) === "active" ? "active" : "suspended",
    groups: parseGroups(text(values, U.groups)),
    createdAt: decodeInt(text(values, U.createdAt)),
  };
}

function countAt(counts: readonly unknown[], i: number): number {
  const value = Number(counts[i] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

const NO_COUNTS: readonly unknown[] = [];

/** {"s":[session values],"u":[user values],"c":[sessionCur, sessionPrev, userCur, userPrev, ipCur, ipPrev, ipRep]} */
function parseReply(
  reply: string,
  sessionId: string | undefined,
  queryUserId: string | undefined,
  now: number,
  window: number | undefined,
): DecisionState {
  const parsed = JSON.parse(reply) as { s: unknown; u: unknown; c: unknown };
  const session = sessionId === undefined ? undefined : sessionFromValues(sessionId, parsed.s);
  const userId = session?.userId ?? queryUserId;
  const user = userId === undefined ? undefined : userFromValues(userId, parsed.u);
  const counts = Array.isArray(parsed.c) ? parsed.c : NO_COUNTS;
  const rate =
    window === undefined
      ? { session: 0, user: 0, ip: 0 }
      : {
          session: slidingCount(countAt(counts, 0), countAt(counts, 1), now, window),
          user: slidingCount(countAt(counts, 2), countAt(counts, 3), now, window),
          ip: slidingCount(countAt(counts, 4), countAt(counts, 5), now, window),
        };
  return { session, user, rate, ipReputation: countAt(counts, 6) };
}
