/**
 * FederationStore on Redis. Keys carry the hash tag of their entity: the IdP subject
 * `{oidc:<provider>:<sha256(sub)>}` and the IdP session `{oidc:<provider>:<sha256(sid)>}` (hashed:
 * an IdP's identifiers may hold any character, braces included). The groups an IdP gave a user
 * are a field of the user's own hash, updated by one script that is passed that key.
 */
import { createHash } from "node:crypto";
import type { FederationStore } from "../../ports.ts";
import type { RedisContext } from "./context.ts";

const hashed = (value: string): string => createHash("sha256").update(value).digest("base64url");

/** Field of the user hash holding the groups `provider` gave the user (JSON array). */
export const idpGroupsField = (provider: string): string => `idpGroups:${provider}`;

/** Field of the user hash holding the user's subject at `provider`. */
export const idpSubjectField = (provider: string): string => `idpSubject:${provider}`;

/**
 * KEYS[1] user hash; ARGV[1] the provider's groups field, ARGV[2] its new groups (JSON array).
 * Vigil-set groups = groups − the provider's previous groups; the result is those ∪ the new ones.
 */
const SYNC_GROUPS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local current = cjson.decode(redis.call('HGET', KEYS[1], 'groups') or '[]')
local previous = cjson.decode(redis.call('HGET', KEYS[1], ARGV[1]) or '[]')
local fresh = cjson.decode(ARGV[2])
local drop, seen, result = {}, {}, {}
for _, g in ipairs(previous) do drop[g] = true end
for _, g in ipairs(current) do
  if not drop[g] and not seen[g] then seen[g] = true; result[#result + 1] = g end
end
for _, g in ipairs(fresh) do
  if not seen[g] then seen[g] = true; result[#result + 1] = g end
end
local encoded = #result == 0 and '[]' or cjson.encode(result)
redis.call('HSET', KEYS[1], 'groups', encoded, ARGV[1], ARGV[2])
return encoded
`;

export function createRedisFederationStore(
  { client, keys, confirmation }: RedisContext,
  prefix: string,
): FederationStore {
  const subjectKey = (provider: string, subject: string) =>
    `${prefix}oidc-subject:{oidc:${provider}:${hashed(subject)}}`;
  const sidKey = (provider: string, sid: string) => `${prefix}oidc-sid:{oidc:${provider}:${hashed(sid)}}`;

  return {
    async bindSubject(provider, subject, userId) {
      const userKey = keys.user(userId);
      const field = idpSubjectField(provider);
      await client.hsetnx(userKey, field, subject);
      if ((await client.hget(userKey, field)) !== subject) return "user_taken";
      const previous = await client.set(subjectKey(provider, subject), userId, "NX", "GET");
      return previous === null || previous === userId ? "ok" : "subject_taken";
    },
    async userOfSubject(provider, subject) {
      return (await client.get(subjectKey(provider, subject))) ?? undefined;
    },
    async rememberSid(provider, sid, userId, ttlMs) {
      await client.set(sidKey(provider, sid), userId, "PX", Math.max(1, Math.floor(ttlMs)));
    },
    async userOfSid(provider, sid) {
      return (await client.get(sidKey(provider, sid))) ?? undefined;
    },
    async syncGroups(userId, provider, groups) {
      // The IdP's groups decide access like an admin's group change: confirmed or refused.
      const confirm = confirmation.track(keys.user(userId));
      const reply = (await client.eval(
        SYNC_GROUPS,
        1,
        keys.user(userId),
        idpGroupsField(provider),
        JSON.stringify([...new Set(groups)]),
      )) as string | null;
      await confirm();
      if (reply === null) return undefined;
      const parsed: unknown = JSON.parse(reply);
      return Array.isArray(parsed) ? parsed.filter((g): g is string => typeof g === "string") : [];
    },
  };
}
