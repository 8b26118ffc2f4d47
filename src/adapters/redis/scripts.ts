/**
 * Lua scripts, registered with ioredis `defineCommand` (EVALSHA, falling back to EVAL on
 * NOSCRIPT). Every multi-step change runs as one script so it is atomic and costs one round trip
 * on the auto-pipelined client (the decision script is sent its own way: see decision-caller.ts).
 *
 * Every key a script touches is passed in KEYS, never built inside the script, and all KEYS of one
 * call share a hash tag (keys.ts), so each script runs on Redis Cluster too. The one exception is
 * the whole decision script, which runs only on one Redis (see DERIVED_DECISION_KEYS). Scripts
 * that act on every session of a user (revoke all, the per-user cap) are told the index's members
 * and their keys by the caller; they first check that the index still holds exactly those members
 * and answer STALE (-1) otherwise, and the caller reads the index again and retries.
 */
import type Redis from "ioredis";
import type { Cluster } from "ioredis";

/**
 * The session and user hash fields the decision needs, in the order the decision script returns
 * their values (HMGET, not HGETALL: no field names on the wire, nothing the decision ignores).
 * The script also reads `expiresAt` and the session's rate counter fields but does not return them.
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

/**
 * The session's own rate counter lives in its hash (no key of its own, gone with the session):
 * the fixed window it counts, that window's count and the previous window's.
 */
export const SESSION_RATE_FIELDS = ["rateWindow", "rateCount", "ratePrevious"] as const;

/** A reply of the index scripts: the index changed since the caller read it. */
export const STALE = -1;

const luaList = (names: readonly string[]) => names.map((name) => `"${name}"`).join(", ");

/**
 * The decision arguments (ARGV), the same for every part of the decision script:
 * flags ("s": KEYS hold a session; "u": a user named by a bearer token), the session's hash, the
 * user id, now, idle time-out, lat, lon ("" = unknown), rate window ("" = off).
 */
const DECISION_ARGS = `
local flags, member, userId, nowText = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, idle = tonumber(nowText), tonumber(ARGV[5])
local lat, lon = ARGV[6], ARGV[7]
local window = tonumber(ARGV[8])
local index = window and math.floor(now / window)
-- Numbers leave the script as text made here: Lua's own number-to-string (tostring, implicit
-- conversions in redis.call and cjson) formats with "%.14g" and costs about 0.8 µs each, more
-- than most commands of this script.
local function int(n) return string.format("%d", n) end
local windowText = window and int(index)
local counts = { "0", "0", "0", "0", "0", "0", "0" }
local session, user = {}, {}
local function present(values)
  for i = 1, #values do if values[i] then return true end end
  return false
end
`;

const N = DECISION_SESSION_FIELDS.length;

/**
 * The user slot's part. Its keys K (from U+1; KEYS itself on Cluster, DERIVED_DECISION_KEYS on
 * one Redis): session hash (the user hash again when there is no session), session index, user
 * hash, user counter of this window, of the previous one.
 * A session is only believed when its stored owner is the user its id names.
 */
const decisionUserPart = (U: number) => `
local readUser = string.find(flags, "u", 1, true) ~= nil
if string.find(flags, "s", 1, true) then
  local key = K[${U + 1}]
  local values = redis.call("HMGET", key, ${luaList([...DECISION_SESSION_FIELDS, "expiresAt", ...SESSION_RATE_FIELDS])})
  if values[1] == userId then
    local expiresAt = tonumber(values[${N + 1}]) or 0
    local lastSeen = tonumber(values[${DECISION_SESSION_FIELDS.indexOf("lastSeenAt") + 1}]) or 0
    -- The key TTL normally expires the session; this also covers a session never read since it
    -- was created (its TTL is still the absolute one) and replicas whose clocks disagree.
    if expiresAt <= now or now - lastSeen > idle then
      redis.call("DEL", key)
      redis.call("ZREM", K[${U + 2}], member)
    else
      readUser = true
      local fields = { "lastSeenAt", nowText }
      if lat ~= "" then
        table.insert(fields, "lastLat"); table.insert(fields, lat)
        table.insert(fields, "lastLon"); table.insert(fields, lon)
        table.insert(fields, "lastLocatedAt"); table.insert(fields, nowText)
      end
      if window then
        local counted, count, previous = values[${N + 2}], values[${N + 3}] or "0", values[${N + 4}] or "0"
        if counted == windowText then counts[1], counts[2] = int(tonumber(count) + 1), previous
        elseif counted == int(index - 1) then counts[1], counts[2] = "1", count
        else counts[1], counts[2] = "1", "0" end
        table.insert(fields, "rateWindow"); table.insert(fields, windowText)
        table.insert(fields, "rateCount"); table.insert(fields, counts[1])
        table.insert(fields, "ratePrevious"); table.insert(fields, counts[2])
      end
      redis.call("HSET", key, unpack(fields))
      -- Sliding idle expiry: other readers (portal, admin) see an idle session disappear on time.
      redis.call("PEXPIRE", key, int(math.min(idle, expiresAt - now)))
      for i = ${N + 4}, ${N + 1}, -1 do values[i] = nil end
      session = values
    end
  end
end
if readUser then
  local values = redis.call("HMGET", K[${U + 3}], ${luaList(DECISION_USER_FIELDS)})
  if present(values) then user = values end
  if window then
    local count = redis.call("INCR", K[${U + 4}])
    if count == 1 then redis.call("PEXPIRE", K[${U + 4}], int(2 * window)) end
    counts[3], counts[4] = int(count), redis.call("GET", K[${U + 5}]) or "0"
  end
end
`;

/** The client slot's part. Its keys K (from I+1): client counter of this window, of the previous one, reputation. */
const decisionClientPart = (I: number) => `
if window then
  local count = redis.call("INCR", K[${I + 1}])
  if count == 1 then redis.call("PEXPIRE", K[${I + 1}], int(2 * window)) end
  counts[5] = int(count)
  local previous = redis.call("MGET", K[${I + 2}], K[${I + 3}])
  counts[6], counts[7] = previous[1] or "0", previous[2] or "0"
else
  counts[7] = redis.call("GET", K[${I + 3}]) or "0"
end
`;

/**
 * The reply is ONE JSON string (cjson): {"s":[session values],"u":[user values],"c":[7 counts as text]}
 * — a single bulk string is far cheaper for the client to decode than ~45 array items. Missing
 * fields are false; an absent session or user is an empty list (which cjson writes as {}).
 */
const DECISION_REPLY = `
return cjson.encode({ s = session, u = user, c = counts })
`;

/**
 * The whole decision's keys from the two it is given: the client's reputation key (`<client
 * slot>rep`) and, when the call names a user, the user's record (`<user slot>user`). The other
 * keys of each slot are built from that slot's start exactly as keys.ts builds them. Only for one
 * Redis (standalone or Sentinel): there is no slot to route or migrate, and six keys fewer on
 * the wire is measurably cheaper for the client on every decision (docs/performance.md). On
 * Cluster each part gets every key it touches in KEYS.
 */
const DERIVED_DECISION_KEYS = `
local K = {}
local idx = index or 0
local clientSlot = string.sub(KEYS[1], 1, -4)
K[1], K[2], K[3] = clientSlot .. "rate:" .. int(idx), clientSlot .. "rate:" .. int(idx - 1), KEYS[1]
if #KEYS > 1 then
  local userSlot = string.sub(KEYS[2], 1, -5)
  K[4] = string.find(flags, "s", 1, true) and (userSlot .. "s:" .. member) or KEYS[2]
  K[5], K[6] = userSlot .. "sessions", KEYS[2]
  K[7], K[8] = userSlot .. "rate:" .. int(idx), userSlot .. "rate:" .. int(idx - 1)
end
`;

/** The decision scripts: the whole decision (one Redis), or one slot's part (Cluster). */
export const DECISION_SCRIPTS = {
  /** KEYS: the client's reputation key, then the user's record when ARGV flags name a session or a user. */
  whole: `${DECISION_ARGS}${DERIVED_DECISION_KEYS}${decisionClientPart(0)}if #KEYS > 1 then ${decisionUserPart(3)} end${DECISION_REPLY}`,
  /** KEYS: all five of the user slot's part (decisionCall in decision-state-reader.ts). */
  user: `${DECISION_ARGS}local K = KEYS\n${decisionUserPart(0)}${DECISION_REPLY}`,
  /** KEYS: all three of the client slot's part. */
  client: `${DECISION_ARGS}local K = KEYS\n${decisionClientPart(0)}${DECISION_REPLY}`,
} as const;

/**
 * Checks that the sorted set KEYS[indexAt] holds exactly the members ARGV[argAt+1..argAt+count],
 * whose keys are KEYS[keyAt+1..keyAt+count]; returns member → key, or nil when it changed.
 */
const DECLARED_MEMBERS = `
local function declaredMembers(indexKey, keyAt, argAt, count)
  local current = redis.call("ZRANGE", indexKey, 0, -1)
  if #current ~= count then return nil end
  local keyOf = {}
  for i = 1, count do keyOf[ARGV[argAt + i]] = KEYS[keyAt + i] end
  for _, member in ipairs(current) do if keyOf[member] == nil then return nil end end
  return keyOf, current
end
-- The index lives as long as its longest-lived session.
local function expireIndex(indexKey)
  local last = redis.call("ZRANGE", indexKey, -1, -1, "WITHSCORES")
  if #last == 2 then redis.call("PEXPIREAT", indexKey, last[2]) end
end
`;

/**
 * Inserts a session, pruning the index and enforcing the per-user cap (oldest sign-in first).
 * KEYS: new session, index, then the index's current members' session keys.
 * ARGV: member, expiresAt, ttlMs, cap, m (members declared), m members, then field, value, …
 * → how many live sessions the cap revoked, or STALE.
 */
const INSERT_SESSION = `${DECLARED_MEMBERS}
local member, expiresAt, ttl, cap, m = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local keyOf, current = declaredMembers(KEYS[2], 2, 5, m)
if keyOf == nil then return ${STALE} end
-- Prune on write: members whose session has ended (absolute or idle time-out, deleted).
local live = {}
for _, id in ipairs(current) do
  if redis.call("EXISTS", keyOf[id]) == 1 then table.insert(live, id) else redis.call("ZREM", KEYS[2], id) end
end
-- The index is ordered by absolute expiry, i.e. by sign-in time: the oldest go first.
local revoked = 0
while #live >= cap do
  local oldest = table.remove(live, 1)
  redis.call("DEL", keyOf[oldest])
  redis.call("ZREM", KEYS[2], oldest)
  revoked = revoked + 1
end
redis.call("HSET", KEYS[1], unpack(ARGV, 6 + m))
redis.call("PEXPIRE", KEYS[1], ttl)
redis.call("ZADD", KEYS[2], expiresAt, member)
expireIndex(KEYS[2])
return revoked
`;

/**
 * Replaces a session by a new one in one step (a step-up's rotation), so "revoke all sessions"
 * either runs first (nothing to rotate) or sees the new session in the index.
 * KEYS: old session, new session, index. ARGV: old member, new member, now, absolute ttl, owner,
 * then patch field, value, … → the old session's fields (flat), or {} when it is gone.
 * The new session keeps everything of the old one but its rate counter, with the patch applied,
 * lastSeenAt now and the absolute deadline of the original sign-in.
 */
const ROTATE_SESSION = `${DECLARED_MEMBERS}
local old = redis.call("HGETALL", KEYS[1])
if #old == 0 then return old end
local fields, createdAt = {}, 0
for i = 1, #old, 2 do fields[old[i]] = old[i + 1] end
redis.call("DEL", KEYS[1])
redis.call("ZREM", KEYS[3], ARGV[1])
local now = tonumber(ARGV[3])
local expiresAt = (tonumber(fields.createdAt) or 0) + tonumber(ARGV[4])
if fields.userId ~= ARGV[5] or expiresAt <= now then return {} end
${SESSION_RATE_FIELDS.map((name) => `fields["${name}"] = nil`).join("; ")}
for i = 6, #ARGV, 2 do fields[ARGV[i]] = ARGV[i + 1] end
fields.lastSeenAt = ARGV[3]
fields.expiresAt = string.format("%d", expiresAt)
local flat = {}
for name, value in pairs(fields) do table.insert(flat, name); table.insert(flat, value) end
redis.call("HSET", KEYS[2], unpack(flat))
redis.call("PEXPIRE", KEYS[2], string.format("%d", expiresAt - now))
redis.call("ZADD", KEYS[3], string.format("%d", expiresAt), ARGV[2])
expireIndex(KEYS[3])
return old
`;

/** KEYS: index, then its members' session keys; ARGV: the members → sessions deleted, or STALE. */
const DELETE_ALL_SESSIONS = `${DECLARED_MEMBERS}
local keyOf = declaredMembers(KEYS[1], 1, 0, #ARGV)
if keyOf == nil then return ${STALE} end
local deleted = 0
for i = 2, #KEYS do deleted = deleted + redis.call("DEL", KEYS[i]) end
redis.call("DEL", KEYS[1])
return deleted
`;

/** KEYS: hash, index (a set or sorted set); ARGV: member → 1 when the hash existed, now deleted. */
const DELETE_INDEXED = `
local deleted = redis.call("DEL", KEYS[1])
if redis.call("TYPE", KEYS[2]).ok == "zset" then redis.call("ZREM", KEYS[2], ARGV[1])
else redis.call("SREM", KEYS[2], ARGV[1]) end
return deleted
`;

/** KEYS: hash, set; ARGV: member, field, value, … → 0 (and nothing written) when the hash exists. */
const ADD_INDEXED = `
if redis.call("EXISTS", KEYS[1]) == 1 then return 0 end
redis.call("HSET", KEYS[1], unpack(ARGV, 2))
redis.call("SADD", KEYS[2], ARGV[1])
return 1
`;

/** KEYS: hash; ARGV: field, value, … → the hash is exactly these fields. */
const REPLACE_HASH = `
redis.call("DEL", KEYS[1])
redis.call("HSET", KEYS[1], unpack(ARGV))
return 1
`;

/** KEYS: hash; ARGV: field, value, … → 0 when the hash is gone (nothing written). */
const PATCH_HASH = `
if redis.call("EXISTS", KEYS[1]) == 0 then return 0 end
if #ARGV >= 2 then redis.call("HSET", KEYS[1], unpack(ARGV)) end
return 1
`;

/** KEYS: counter; ARGV: by, ttlMs → the new value. */
const COUNTER_ADD = `
local value = redis.call("INCRBY", KEYS[1], ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return value
`;

type Arg = string | number;

export interface VigilScripts {
  insertSession(keys: string[], args: Arg[]): Promise<number>;
  rotateSession(keys: string[], args: Arg[]): Promise<string[]>;
  deleteAllSessions(keys: string[], members: string[]): Promise<number>;
  deleteIndexed(hashKey: string, indexKey: string, member: string): Promise<number>;
  addIndexed(hashKey: string, setKey: string, member: string, fields: string[]): Promise<number>;
  replaceHash(key: string, fields: string[]): Promise<number>;
  patchHash(key: string, fields: string[]): Promise<number>;
  counterAdd(key: string, by: number, ttlMs: number): Promise<number>;
}

/** Each script and its number of KEYS (undefined: the call passes its own count first). */
const SCRIPTS = {
  vigilInsertSession: { lua: INSERT_SESSION, keys: undefined },
  vigilRotateSession: { lua: ROTATE_SESSION, keys: 3 },
  vigilDeleteAllSessions: { lua: DELETE_ALL_SESSIONS, keys: undefined },
  vigilDeleteIndexed: { lua: DELETE_INDEXED, keys: 2 },
  vigilAddIndexed: { lua: ADD_INDEXED, keys: 2 },
  vigilReplaceHash: { lua: REPLACE_HASH, keys: 1 },
  vigilPatchHash: { lua: PATCH_HASH, keys: 1 },
  vigilCounterAdd: { lua: COUNTER_ADD, keys: 1 },
} as const;

type ScriptName = keyof typeof SCRIPTS;

/** Registers the scripts on the client (idempotent) and returns typed callers. */
export function defineScripts(client: Redis | Cluster): VigilScripts {
  for (const [name, { lua, keys }] of Object.entries(SCRIPTS)) {
    client.defineCommand(name, keys === undefined ? { lua } : { lua, numberOfKeys: keys });
  }
  const commands = client as unknown as Record<ScriptName, (...args: Arg[]) => Promise<unknown>>;
  const run = <T>(name: ScriptName, keys: readonly string[], args: readonly Arg[]) =>
    (SCRIPTS[name].keys === undefined
      ? commands[name](keys.length, ...keys, ...args)
      : commands[name](...keys, ...args)) as Promise<T>;
  return {
    insertSession: (keys, args) => run("vigilInsertSession", keys, args),
    rotateSession: (keys, args) => run("vigilRotateSession", keys, args),
    deleteAllSessions: (keys, members) => run("vigilDeleteAllSessions", keys, members),
    deleteIndexed: (hashKey, indexKey, member) => run("vigilDeleteIndexed", [hashKey, indexKey], [member]),
    addIndexed: (hashKey, setKey, member, fields) =>
      run("vigilAddIndexed", [hashKey, setKey], [member, ...fields]),
    replaceHash: (key, fields) => run("vigilReplaceHash", [key], fields),
    patchHash: (key, fields) => run("vigilPatchHash", [key], fields),
    counterAdd: (key, by, ttlMs) => run("vigilCounterAdd", [key], [by, ttlMs]),
  };
}
