/** FederationStore in process memory: same semantics as adapters/redis/federation-store.ts. */
import type { FederationStore } from "../../ports.ts";
import { ExpiringMap } from "./expiring-map.ts";
import type { MemoryState } from "./memory-state.ts";

export function createMemoryFederationStore(state: MemoryState): FederationStore {
  const subjects = new Map<string, string>();
  const sids = new ExpiringMap<string>();
  /** `<userId>\n<provider>` → the user's subject at that provider (and which user record it belongs to). */
  const userSubjects = new Map<string, { subject: string; createdAt: number | undefined }>();
  /** `<userId>\n<provider>` → the groups that provider gave the user. */
  const idpGroups = new Map<string, string[]>();
  const key = (a: string, b: string) => `${a}\n${b}`;

  return {
    async bindSubject(provider, subject, userId) {
      // The user's side of the link lives with the user (as in the Redis user hash): a user deleted
      // and created again (another createdAt) is unlinked.
      const createdAt = state.users.get(userId)?.createdAt;
      const own = userSubjects.get(key(userId, provider));
      const ownSubject = own !== undefined && own.createdAt === createdAt ? own.subject : subject;
      userSubjects.set(key(userId, provider), { subject: ownSubject, createdAt });
      if (ownSubject !== subject) return "user_taken";
      const bound = subjects.get(key(provider, subject)) ?? userId;
      subjects.set(key(provider, subject), bound);
      return bound === userId ? "ok" : "subject_taken";
    },
    async userOfSubject(provider, subject) {
      return subjects.get(key(provider, subject));
    },
    async rememberSid(provider, sid, userId, ttlMs) {
      sids.set(key(provider, sid), userId, Math.max(1, ttlMs));
    },
    async userOfSid(provider, sid) {
      return sids.get(key(provider, sid));
    },
    async syncGroups(userId, provider, groups) {
      const user = state.users.get(userId);
      if (user === undefined) return undefined;
      const previous = new Set(idpGroups.get(key(userId, provider)) ?? []);
      const result = [...new Set([...user.groups.filter((g) => !previous.has(g)), ...groups])];
      idpGroups.set(key(userId, provider), [...new Set(groups)]);
      state.users.set(userId, { ...user, groups: result });
      return [...result];
    },
  };
}
