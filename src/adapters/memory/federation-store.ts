/** FederationStore in process memory: same semantics as adapters/redis/federation-store.ts. */
import type { FederationStore } from "../../ports.ts";
import { ExpiringMap } from "./expiring-map.ts";
import type { MemoryState } from "./memory-state.ts";

export function createMemoryFederationStore(state: MemoryState): FederationStore {
  const subjects = new Map<string, string>();
  const sids = new ExpiringMap<string>();
  /** `<userId>\n<provider>` → the user's subject at that provider. */
  const userSubjects = new Map<string, string>();
  /** `<userId>\n<provider>` → the groups that provider gave the user. */
  const idpGroups = new Map<string, string[]>();
  const key = (a: string, b: string) => `${a}\n${b}`;

  return {
    async bindSubject(provider, subject, userId) {
      const ownSubject = userSubjects.get(key(userId, provider)) ?? subject;
      userSubjects.set(key(userId, provider), ownSubject);
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
