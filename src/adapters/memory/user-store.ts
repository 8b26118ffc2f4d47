/** In-memory users. */
import type { UserStore } from "../../ports.ts";
import { copyUser, type MemoryState } from "./memory-state.ts";
import { definedOnly } from "./session-store.ts";

export function createMemoryUserStore(state: MemoryState): UserStore {
  return {
    async get(userId) {
      const user = state.users.get(userId);
      return user === undefined ? undefined : copyUser(user);
    },
    async put(user) {
      state.users.set(user.id, copyUser(user));
    },
    async update(userId, patch) {
      const user = state.users.get(userId);
      if (user === undefined) return false;
      state.users.set(userId, copyUser({ ...user, ...definedOnly(patch), id: userId }));
      return true;
    },
    async delete(userId) {
      return state.users.delete(userId);
    },
    async list() {
      return [...state.users.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(copyUser);
    },
    async count() {
      return state.users.size;
    },
  };
}
