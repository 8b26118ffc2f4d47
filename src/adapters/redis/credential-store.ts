/**
 * Passkeys as hashes `{u:<user>}:cred:<credential id>`, indexed per user in `{u:<user>}:creds`.
 * `cred-owner:<credential id>` names the owner: it finds a credential from the id an assertion
 * carries, and, claimed with SET NX before the record is written, keeps every id registered once
 * (two racing enrollments of one id: the second is refused, never overwrites the first).
 */
import type { CredentialStore, StoredCredential } from "../../ports.ts";
import { credentialFromFields, credentialToFields, flattenFields } from "./codec.ts";
import type { RedisContext } from "./context.ts";

export function createRedisCredentialStore({
  client,
  keys,
  scripts,
  confirmation,
}: RedisContext): CredentialStore {
  const owner = async (credentialId: string) =>
    (await client.get(keys.credentialOwner(credentialId))) ?? undefined;

  const read = async (userId: string, credentialId: string) => {
    const credential = credentialFromFields(
      credentialId,
      await client.hgetall(keys.credential(userId, credentialId)),
    );
    return credential?.userId === userId ? credential : undefined;
  };

  return {
    async get(credentialId) {
      const userId = await owner(credentialId);
      return userId === undefined ? undefined : read(userId, credentialId);
    },

    async listByUser(userId) {
      const ids = await client.smembers(keys.userCredentials(userId));
      const credentials = await Promise.all(ids.map((id) => read(userId, id)));
      return credentials
        .filter((credential): credential is StoredCredential => credential !== undefined)
        .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },

    async add(credential) {
      const { id, userId } = credential;
      const ownerKey = keys.credentialOwner(id);
      if ((await client.set(ownerKey, userId, "NX")) !== "OK") return false;
      try {
        const fields = flattenFields(credentialToFields(credential));
        const added = await scripts.addIndexed(
          keys.credential(userId, id),
          keys.userCredentials(userId),
          id,
          fields,
        );
        return added === 1;
      } catch (error) {
        // Not written: release the id so the enrollment can be tried again.
        await client.del(ownerKey).catch(() => {});
        throw error;
      }
    },

    async recordUse(credentialId, use) {
      const userId = await owner(credentialId);
      if (userId === undefined) return false;
      const fields = [
        "counter",
        String(use.counter),
        "lastUsedAt",
        String(use.usedAt),
        "deviceType",
        use.deviceType,
        "backedUp",
        use.backedUp ? "1" : "0",
      ];
      return (await scripts.patchHash(keys.credential(userId, credentialId), fields)) === 1;
    },

    async rename(credentialId, name) {
      const userId = await owner(credentialId);
      if (userId === undefined) return false;
      return (await scripts.patchHash(keys.credential(userId, credentialId), ["name", name])) === 1;
    },

    async delete(credentialId) {
      const ownerKey = keys.credentialOwner(credentialId);
      const confirmOwner = confirmation.track(ownerKey);
      const userId = await owner(credentialId);
      if (userId === undefined) {
        // "No such passkey" must be as durable as "deleted": the absence read here is confirmed.
        await confirmOwner();
        return false;
      }
      const key = keys.credential(userId, credentialId);
      const confirm = confirmation.track(key);
      const deleted = await scripts.deleteIndexed(key, keys.userCredentials(userId), credentialId);
      // The record is gone first: the id is free again only once nothing answers to it.
      await client.del(ownerKey);
      // Confirms the record's deletion (on Cluster: the record's node; the owner key is elsewhere).
      await confirm();
      return deleted === 1;
    },
  };
}
