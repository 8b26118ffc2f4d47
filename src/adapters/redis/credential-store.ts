/** Passkeys as hashes `cred:<credentialId>`, indexed per user in `user-creds:<userId>`. */
import type { CredentialStore, StoredCredential } from "../../ports.ts";
import { credentialFromFields, credentialToFields, flattenFields } from "./codec.ts";
import type { RedisContext } from "./context.ts";

const OWNER = "userId";

export function createRedisCredentialStore({
  client,
  keys,
  scripts,
  confirmation,
}: RedisContext): CredentialStore {
  const get = async (credentialId: string) =>
    credentialFromFields(credentialId, await client.hgetall(keys.credential(credentialId)));

  return {
    get,

    async listByUser(userId) {
      const ids = await client.smembers(keys.userCredentials(userId));
      const credentials = await Promise.all(ids.map(get));
      return credentials
        .filter((credential): credential is StoredCredential => credential !== undefined)
        .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },

    async add(credential) {
      const fields = flattenFields(credentialToFields(credential));
      await scripts.putIndexed(
        keys.credential(credential.id),
        keys.userCredentialsPrefix,
        OWNER,
        credential.id,
        0,
        fields,
      );
    },

    async recordUse(credentialId, use) {
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
      const key = keys.credential(credentialId);
      return (await scripts.patchIndexed(key, keys.userCredentialsPrefix, OWNER, credentialId, fields)) === 1;
    },

    async delete(credentialId) {
      const key = keys.credential(credentialId);
      const confirm = confirmation.track(key);
      const taken = await scripts.takeIndexed(key, keys.userCredentialsPrefix, OWNER, credentialId);
      await confirm();
      return taken.length > 0;
    },
  };
}
