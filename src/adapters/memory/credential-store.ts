/** In-memory passkeys, indexed per user. */
import type { CredentialStore } from "../../ports.ts";
import { copyCredential, indexAdd, indexRemove, type MemoryState } from "./memory-state.ts";

export function createMemoryCredentialStore(state: MemoryState): CredentialStore {
  return {
    async listByUser(userId) {
      return [...(state.userCredentials.get(userId) ?? [])]
        .map((id) => state.credentials.get(id))
        .filter((credential) => credential !== undefined)
        .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
        .map(copyCredential);
    },
    async get(credentialId) {
      const credential = state.credentials.get(credentialId);
      return credential === undefined ? undefined : copyCredential(credential);
    },
    async add(credential) {
      // An id is registered once: never overwrite another enrollment's passkey.
      if (state.credentials.has(credential.id)) return false;
      state.credentials.set(credential.id, copyCredential(credential));
      indexAdd(state.userCredentials, credential.userId, credential.id);
      return true;
    },
    async recordUse(credentialId, use) {
      const credential = state.credentials.get(credentialId);
      if (credential === undefined) return false;
      credential.counter = use.counter;
      credential.lastUsedAt = use.usedAt;
      credential.deviceType = use.deviceType;
      credential.backedUp = use.backedUp;
      return true;
    },
    async delete(credentialId) {
      const credential = state.credentials.get(credentialId);
      if (credential === undefined) return false;
      state.credentials.delete(credentialId);
      indexRemove(state.userCredentials, credential.userId, credentialId);
      return true;
    },
  };
}
