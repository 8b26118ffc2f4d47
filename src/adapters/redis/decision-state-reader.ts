/**
 * The decision's round trip: the decision Lua script (scripts.ts), whose JSON reply is parsed
 * here. On one Redis it is one call with every key; on Redis Cluster it is the user slot's part
 * and the client slot's part, sent at once (one round trip of latency). Nothing else touches
 * Redis on the decision path.
 */

import type { Session, User } from "../../core/types.ts";
import type { DecisionState, DecisionStateQuery, DecisionStateReader } from "../../ports.ts";
import { parseSessionId } from "../../session/token.ts";
import { decodeSession, decodeUser, type FieldReader } from "./codec.ts";
import type { DecisionCall, DecisionReply, RedisContext } from "./context.ts";
import type { KeyLayout } from "./keys.ts";
import { DECISION_SESSION_FIELDS, DECISION_USER_FIELDS } from "./scripts.ts";
import { slidingCount, windowIndex } from "./sliding-window.ts";

/** The call, and whose user record it reads (the session's user, or the token's). */
export function decisionCall(
  keys: KeyLayout,
  query: DecisionStateQuery,
): DecisionCall & { userId: string | undefined } {
  const now = Math.floor(query.now);
  const window = query.rateWindowMs;
  const parsed = query.sessionId === undefined ? undefined : parseSessionId(query.sessionId);
  const userId = parsed?.userId ?? (query.sessionId === undefined ? query.userId : undefined);
  // Strings only (the script's ARGV): the script stores `now` as text.
  const args = [
    parsed !== undefined ? "s" : userId !== undefined ? "u" : "",
    parsed?.hash ?? "",
    userId ?? "",
    String(now),
    String(Math.floor(query.idleTimeoutMs)),
    query.location === undefined ? "" : String(query.location.lat),
    query.location === undefined ? "" : String(query.location.lon),
    window === undefined ? "" : String(window),
  ];
  return {
    clientSlot: keys.clientSlot(query.clientKey),
    userSlot: userId === undefined ? undefined : keys.userSlot(userId),
    sessionHash: parsed?.hash,
    windowIndex: window === undefined ? 0 : windowIndex(now, window),
    args,
    userId,
  };
}

/**
 * Every key of a call, as the Cluster parts take them in KEYS: the client slot's (this window's
 * counter, the previous one's, the reputation), then the user slot's (the session, or the user
 * record standing in for it; the session index; the user record; this window's counter, the
 * previous one's), none when the call names no user. The whole script on one Redis builds the
 * same keys itself from the reputation key and the user record (scripts.ts).
 */
export function decisionKeys(call: DecisionCall): { clientKeys: string[]; userKeys: string[] } {
  const { clientSlot: client, userSlot: user, windowIndex: index } = call;
  const clientKeys = [`${client}rate:${index}`, `${client}rate:${index - 1}`, `${client}rep`];
  if (user === undefined) return { clientKeys, userKeys: [] };
  const userKeys = [
    // Without a session the user hash stands in for it: declared, never read as a session.
    call.sessionHash === undefined ? `${user}user` : `${user}s:${call.sessionHash}`,
    `${user}sessions`,
    `${user}user`,
    `${user}rate:${index}`,
    `${user}rate:${index - 1}`,
  ];
  return { clientKeys, userKeys };
}

export function createRedisDecisionStateReader({ keys, decision }: RedisContext): DecisionStateReader {
  return {
    async read(query: DecisionStateQuery): Promise<DecisionState> {
      const call = decisionCall(keys, query);
      const reply = await decision(call);
      return parseReply(reply, query.sessionId, call.userId, Math.floor(query.now), query.rateWindowMs);
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

/** A reader of one HMGET reply (values in `names` order), for the shared decoders in codec.ts. */
function valueReader(names: Readonly<Record<string, number>>, values: readonly unknown[]): FieldReader {
  return (name) => {
    const i = names[name];
    return i === undefined ? undefined : text(values, i);
  };
}

function sessionFromValues(id: string, values: unknown): Session | undefined {
  if (!Array.isArray(values)) return undefined; // cjson writes an empty list as {}
  return decodeSession(id, valueReader(S, values));
}

/** The user from the HMGET values in DECISION_USER_FIELDS order (undefined when none exists). */
function userFromValues(id: string, values: unknown): User | undefined {
  if (!Array.isArray(values)) return undefined;
  let any = false;
  for (let i = 0; i < DECISION_USER_FIELDS.length && !any; i++) any = typeof values[i] === "string";
  if (!any) return undefined;
  return decodeUser(id, valueReader(U, values));
}

function countAt(counts: readonly unknown[], i: number): number {
  const value = Number(counts[i] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

const NO_COUNTS: readonly unknown[] = [];

type ParsedReply = { s: unknown; u: unknown; c: unknown };

function mergeReplies(reply: DecisionReply): ParsedReply {
  if (typeof reply === "string") return JSON.parse(reply) as ParsedReply;
  const client = JSON.parse(reply.client) as ParsedReply;
  if (reply.user === undefined) return client;
  const user = JSON.parse(reply.user) as ParsedReply;
  const userCounts = Array.isArray(user.c) ? user.c : NO_COUNTS;
  const clientCounts = Array.isArray(client.c) ? client.c : NO_COUNTS;
  return { s: user.s, u: user.u, c: [...userCounts.slice(0, 4), ...clientCounts.slice(4)] };
}

/** {"s":[session values],"u":[user values],"c":[sessionCur, sessionPrev, userCur, userPrev, ipCur, ipPrev, ipRep]} */
function parseReply(
  reply: DecisionReply,
  sessionId: string | undefined,
  queryUserId: string | undefined,
  now: number,
  window: number | undefined,
): DecisionState {
  const parsed = mergeReplies(reply);
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
