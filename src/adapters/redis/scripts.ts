/**
 * Lua scripts, registered with ioredis `defineCommand` (EVALSHA, falling back to EVAL on
 * NOSCRIPT). Every multi-step change runs as one script so it is atomic and costs one round trip
 * on the auto-pipelined client (the decision script is sent its own way: see decisionCaller).
 * Keys built inside a script (from a prefix) are not declared in KEYS: fine for a standalone or
 * Sentinel Redis; Redis Cluster is not supported.
 *
 * "Indexed" hashes are hashes whose id is also a member of a set: a session in
 * user-sessions:<userId>, a credential in user-creds:<userId>, a user in `users`. When `ownerField`
 * is given the set is `<setPrefix><value of ownerField>`; when it is "" the set is `setPrefix` itself.
 */
import { createHash } from "node:crypto";
import type Redis from "ioredis";
import { ipReputationKey } from "../../ports.ts";
import type { KeyLayout } from "./keys.ts";
import {
  createReplyClockedBatcher,
  missingBatcherInternals,
  type ReplyClockedBatcher,
} from "./reply-clocked-batcher.ts";

/**
 * The session and user hash fields the decision needs, in the order the decision script returns
 * their values (HMGET, not HGETALL: no field names on the wire, nothing the decision ignores).
 * The script also reads `expiresAt` (appended last to the session list) but does not return it.
 */
export const DECISION_SESSION_FIELDS = [
  "userId",
  "acr",
  "amr",
  "authAt",
  "stepUpAt",
  "ip",
  "country",
  "uaHash",
  "lastLat",
  "lastLon",
  "lastLocatedAt",
  "lastSeenAt",
  "createdAt",
] as const;
export const DECISION_USER_FIELDS = ["displayName", "status", "groups", "createdAt"] as const;

const luaList = (names: readonly string[]) => names.map((name) => `"${name}"`).join(", ");

/** A Lua string literal for any text: bytes outside [A-Za-z0-9:_.-] as three-digit decimal escapes. */
const luaLiteral = (text: string) =>
  `"${[...Buffer.from(text, "utf8")]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9:_.-]/.test(char) ? char : `\\${String(byte).padStart(3, "0")}`;
    })
    .join("")}"`;

/** The key prefixes the decision script builds its keys from, fixed per key layout. */
function decisionKeyPrefixes(keys: KeyLayout) {
  const prefixes = {
    session: keys.sessionPrefix,
    userSessions: keys.userSessionsPrefix,
    user: keys.userPrefix,
    rate: keys.ratePrefix,
    ipReputation: keys.counter(ipReputationKey("")),
  };
  // The script appends ids to these: fail at start-up, not on a decision, if keys.ts ever stops
  // composing keys that way.
  const probe = "probe-id";
  if (
    keys.session(probe) !== prefixes.session + probe ||
    keys.userSessions(probe) !== prefixes.userSessions + probe ||
    keys.user(probe) !== prefixes.user + probe ||
    keys.rateWindow(7) !== `${prefixes.rate}7` ||
    keys.counter(ipReputationKey(probe)) !== prefixes.ipReputation + probe
  ) {
    throw new Error("the decision script's keys no longer match keys.ts");
  }
  return prefixes;
}

/**
 * Reads session + user, bumps lastSeen and the rate counters, reads IP reputation.
 * The key prefixes are part of the script's text (one script per key layout), so a call carries
 * only what changes per decision: 8 short arguments, not 15 (the RESP encoding and Redis's
 * argument parsing are per argument). Rate counters are fields "<scope>:<id>" of the hash
 * <rate prefix><window index>, window index = floor(now / window) as in sliding-window.ts.
 * ARGV: sessionId, userId, now, idle timeout, lat, lon (both "" = unknown), rate window ("" =
 * off), client ip. The reply is ONE JSON string (cjson): {"s":[session values],"u":[user
 * values],"c":[7 counts]} — a single bulk string is far cheaper for the client to decode than ~45
 * array items. Missing fields are false; an absent session or user is an empty list (which cjson
 * writes as {}).
 */
function decisionScript(keys: KeyLayout): string {
  const prefix = decisionKeyPrefixes(keys);
  return `
local SESSION, USER_SESSIONS, USER = ${luaLiteral(prefix.session)}, ${luaLiteral(prefix.userSessions)}, ${luaLiteral(prefix.user)}
local RATE, IP_REPUTATION = ${luaLiteral(prefix.rate)}, ${luaLiteral(prefix.ipReputation)}
local sessionId, userId, nowText = ARGV[1], ARGV[2], ARGV[3]
local now, idle = tonumber(nowText), tonumber(ARGV[4])
local lat, lon = ARGV[5], ARGV[6]
local window, ip = tonumber(ARGV[7]), ARGV[8]

local function present(values)
  for i = 1, #values do if values[i] then return true end end
  return false
end

local session = {}
local live = false
if sessionId ~= "" then
  local key = SESSION .. sessionId
  local values = redis.call("HMGET", key, ${luaList([...DECISION_SESSION_FIELDS, "expiresAt"])})
  if present(values) then
    local owner = values[1] or ""
    local expiresAt = tonumber(values[${DECISION_SESSION_FIELDS.length + 1}]) or 0
    local lastSeen = tonumber(values[${DECISION_SESSION_FIELDS.indexOf("lastSeenAt") + 1}]) or 0
    -- The key TTL normally expires the session; this also covers a session never read since it
    -- was created (its TTL is still the absolute one) and replicas whose clocks disagree.
    if expiresAt <= now or now - lastSeen > idle then
      redis.call("DEL", key)
      redis.call("SREM", USER_SESSIONS .. owner, sessionId)
    else
      live = true
      values[${DECISION_SESSION_FIELDS.length + 1}] = nil
      session = values
      userId = owner
      local fields = { "lastSeenAt", nowText }
      if lat ~= "" then
        table.insert(fields, "lastLat"); table.insert(fields, lat)
        table.insert(fields, "lastLon"); table.insert(fields, lon)
        table.insert(fields, "lastLocatedAt"); table.insert(fields, nowText)
      end
      redis.call("HSET", key, unpack(fields))
      -- Sliding idle expiry: other readers (portal, admin) see an idle session disappear on time.
      redis.call("PEXPIRE", key, math.floor(math.min(idle, expiresAt - now)))
    end
  end
end

local user = {}
if userId ~= "" then
  local values = redis.call("HMGET", USER .. userId, ${luaList(DECISION_USER_FIELDS)})
  if present(values) then user = values end
end

-- Rate counters: one hash per window with a field per scope and id, so the three counts cost
-- three HINCRBY and one HMGET of the previous window. The hash's TTL (two windows) is set when a
-- field is created (within this atomic script).
local sc, sp, uc, up, ic, ipv = 0, 0, 0, 0, 0, 0
if window then
  local index = math.floor(now / window)
  local cur, prev = RATE .. string.format("%d", index), RATE .. string.format("%d", index - 1)
  local sField = live and ("session:" .. sessionId) or ""
  local uField = userId ~= "" and ("user:" .. userId) or ""
  local iField = "ip:" .. ip
  local created = false
  if sField ~= "" then sc = redis.call("HINCRBY", cur, sField, 1); created = created or sc == 1 end
  if uField ~= "" then uc = redis.call("HINCRBY", cur, uField, 1); created = created or uc == 1 end
  ic = redis.call("HINCRBY", cur, iField, 1); created = created or ic == 1
  if created then redis.call("PEXPIRE", cur, string.format("%d", 2 * window)) end
  local before = redis.call("HMGET", prev, sField, uField, iField)
  sp, up, ipv = tonumber(before[1]) or 0, tonumber(before[2]) or 0, tonumber(before[3]) or 0
end
local rep = tonumber(redis.call("GET", IP_REPUTATION .. ip)) or 0
return cjson.encode({ s = session, u = user, c = { sc, sp, uc, up, ic, ipv, rep } })
`;
}

/** Shared prologue: the set an indexed hash belongs to. */
const SET_OF = `
local function setOf(setPrefix, ownerField, owner)
  if ownerField == "" then return setPrefix end
  return setPrefix .. (owner or "")
end
`;

/** KEYS[1] hash; ARGV setPrefix, ownerField, member, ttlMs ("0" = none), field, value, … */
const PUT_INDEXED = `${SET_OF}
local setPrefix, ownerField, member, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local newOwner = nil
for i = 5, #ARGV, 2 do if ARGV[i] == ownerField then newOwner = ARGV[i + 1] end end
if ownerField ~= "" then
  local oldOwner = redis.call("HGET", KEYS[1], ownerField)
  if oldOwner and oldOwner ~= newOwner then redis.call("SREM", setPrefix .. oldOwner, member) end
end
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], unpack(ARGV, 5))
if ttl > 0 then redis.call("PEXPIRE", KEYS[1], ttl) end
redis.call("SADD", setOf(setPrefix, ownerField, newOwner), member)
return 1
`;

/** KEYS[1] hash; ARGV setPrefix, ownerField, member, field, value, … → 0 when the hash is gone. */
const PATCH_INDEXED = `${SET_OF}
local setPrefix, ownerField, member = ARGV[1], ARGV[2], ARGV[3]
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
if ownerField ~= "" then
  local oldOwner = redis.call("HGET", KEYS[1], ownerField)
  for i = 4, #ARGV, 2 do
    if ARGV[i] == ownerField and ARGV[i + 1] ~= oldOwner then
      redis.call("SREM", setOf(setPrefix, ownerField, oldOwner), member)
      redis.call("SADD", setOf(setPrefix, ownerField, ARGV[i + 1]), member)
    end
  end
end
if #ARGV >= 5 then redis.call("HSET", KEYS[1], unpack(ARGV, 4)) end
return 1
`;

/** KEYS[1] hash; ARGV setPrefix, ownerField, member → the hash's fields (flat), now deleted. */
const TAKE_INDEXED = `${SET_OF}
local setPrefix, ownerField, member = ARGV[1], ARGV[2], ARGV[3]
local fields = redis.call("HGETALL", KEYS[1])
if #fields == 0 then return fields end
local owner = nil
if ownerField ~= "" then owner = redis.call("HGET", KEYS[1], ownerField) end
redis.call("DEL", KEYS[1])
redis.call("SREM", setOf(setPrefix, ownerField, owner), member)
return fields
`;

/** KEYS[1] set; ARGV hashPrefix → how many member hashes existed; deletes them and the set. */
const DELETE_ALL_INDEXED = `
local deleted = 0
for _, member in ipairs(redis.call("SMEMBERS", KEYS[1])) do
  deleted = deleted + redis.call("DEL", ARGV[1] .. member)
end
redis.call("DEL", KEYS[1])
return deleted
`;

/** KEYS[1] counter; ARGV by, ttlMs → the new value. */
const COUNTER_ADD = `
local value = redis.call("INCRBY", KEYS[1], ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return value
`;

type Arg = string | number;

export interface VigilScripts {
  /** The decision script's JSON reply (see decisionScript); its arguments are all strings. */
  decisionRead(args: readonly string[]): Promise<string>;
  putIndexed(
    key: string,
    setPrefix: string,
    ownerField: string,
    member: string,
    ttlMs: number,
    fields: string[],
  ): Promise<number>;
  patchIndexed(
    key: string,
    setPrefix: string,
    ownerField: string,
    member: string,
    fields: string[],
  ): Promise<number>;
  takeIndexed(key: string, setPrefix: string, ownerField: string, member: string): Promise<string[]>;
  deleteAllIndexed(setKey: string, hashPrefix: string): Promise<number>;
  counterAdd(key: string, by: number, ttlMs: number): Promise<number>;
}

/**
 * Decision batching (reply-clocked-batcher.ts): batches form only once 4 commands await replies, and hold
 * at most 8. Measured on 2 cores (docs/performance.md): 4–16 per batch all cut CPU per decision
 * by about 10 %; 32 made replicas and Redis move in lock step (−18 % req/s).
 */
const DECISION_BATCHING = { batchFrom: 4, batchLimit: 8 };

/** One batcher per connection, however many store sets share it (tests build many). */
const decisionBatchers = new WeakMap<Redis, ReplyClockedBatcher>();

function decisionBatcher(client: Redis): ReplyClockedBatcher {
  let batcher = decisionBatchers.get(client);
  if (batcher === undefined) {
    const { commandTimeout } = client.options;
    batcher = createReplyClockedBatcher(client, {
      ...DECISION_BATCHING,
      timeoutMs: typeof commandTimeout === "number" ? commandTimeout : undefined,
    });
    decisionBatchers.set(client, batcher);
  }
  return batcher;
}

/** How decision calls reach Redis (config redis.batching). */
export interface DecisionBatching {
  /** false: plain EVALSHA on the auto-pipelined client, ioredis's public API only. */
  enabled: boolean;
  /** Told once when batching is on but this ioredis lacks an internal it needs: the plain path is used. */
  onUnavailable?: (missing: readonly string[]) => void;
}

type DecisionSend = (name: "evalsha" | "eval", script: string, args: readonly string[]) => Promise<string>;

/**
 * The reply-clocked batcher when it is on and this ioredis has what it needs, else plain calls.
 * The socket checks need a ready connection: on a client not ready yet they run on its first "ready".
 */
function decisionSender(client: Redis, batching: DecisionBatching): DecisionSend {
  const plain: DecisionSend = (name, script, args) => client[name](script, 0, ...args) as Promise<string>;
  if (!batching.enabled) return plain;
  let batcher: ReplyClockedBatcher | undefined;
  const adopt = (missing: readonly string[]) => {
    if (missing.length === 0) return;
    batcher = undefined;
    batching.onUnavailable?.(missing);
  };
  const missing = missingBatcherInternals(client);
  if (missing.length === 0) {
    batcher = decisionBatcher(client);
    if (client.status !== "ready") client.once("ready", () => adopt(missingBatcherInternals(client)));
  }
  adopt(missing);
  return (name, script, args) =>
    batcher ? (batcher.send(name, [script, 0, ...args]) as Promise<string>) : plain(name, script, args);
}

/**
 * The decision script, called once per decision. With batching on it is sent as a bare EVALSHA
 * command through the reply-clocked batcher (reply-clocked-batcher.ts) rather than ioredis
 * `defineCommand` and auto-pipelining, because on this path every microsecond counts
 * (docs/performance.md): no Script wrapper (argument copies, a reject closure, a chained promise
 * per call), one socket write per batch, no timer per command.
 * A Redis that lost the script without a reconnect (SCRIPT FLUSH) answers NOSCRIPT; the call
 * then sends EVAL, which loads it again for every later call.
 */
function decisionCaller(
  client: Redis,
  keys: KeyLayout,
  batching: DecisionBatching,
): VigilScripts["decisionRead"] {
  const script = decisionScript(keys);
  const sha = createHash("sha1").update(script).digest("hex");
  const send = decisionSender(client, batching);
  // As ioredis's Script does: the first call on each connection sends EVAL (which also loads the
  // script), so even the first decision after a (re)connect is one command.
  const loadedOn = new WeakSet<object>();
  return async (args) => {
    const socket = (client as { stream?: object }).stream;
    if (socket !== undefined && !loadedOn.has(socket)) {
      loadedOn.add(socket);
      return send("eval", script, args);
    }
    try {
      return await send("evalsha", sha, args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
      return send("eval", script, args);
    }
  };
}

const SCRIPTS = {
  vigilPutIndexed: { lua: PUT_INDEXED, numberOfKeys: 1 },
  vigilPatchIndexed: { lua: PATCH_INDEXED, numberOfKeys: 1 },
  vigilTakeIndexed: { lua: TAKE_INDEXED, numberOfKeys: 1 },
  vigilDeleteAllIndexed: { lua: DELETE_ALL_INDEXED, numberOfKeys: 1 },
  vigilCounterAdd: { lua: COUNTER_ADD, numberOfKeys: 1 },
} as const;

type ScriptName = keyof typeof SCRIPTS;

/** Registers the scripts on the client (idempotent) and returns typed callers. */
export function defineScripts(
  client: Redis,
  keys: KeyLayout,
  batching: DecisionBatching = { enabled: true },
): VigilScripts {
  for (const [name, definition] of Object.entries(SCRIPTS)) client.defineCommand(name, definition);
  const commands = client as unknown as Record<ScriptName, (...args: Arg[]) => Promise<unknown>>;
  const run = <T>(name: ScriptName, args: Arg[]) => commands[name](...args) as Promise<T>;
  return {
    decisionRead: decisionCaller(client, keys, batching),
    putIndexed: (key, setPrefix, ownerField, member, ttlMs, fields) =>
      run("vigilPutIndexed", [key, setPrefix, ownerField, member, ttlMs, ...fields]),
    patchIndexed: (key, setPrefix, ownerField, member, fields) =>
      run("vigilPatchIndexed", [key, setPrefix, ownerField, member, ...fields]),
    takeIndexed: (key, setPrefix, ownerField, member) =>
      run("vigilTakeIndexed", [key, setPrefix, ownerField, member]),
    deleteAllIndexed: (setKey, hashPrefix) => run("vigilDeleteAllIndexed", [setKey, hashPrefix]),
    counterAdd: (key, by, ttlMs) => run("vigilCounterAdd", [key, by, ttlMs]),
  };
}
