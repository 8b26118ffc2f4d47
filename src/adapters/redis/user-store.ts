/**
 * Users as hashes `{u:<id>}:user` (groups as JSON). Every id is also in the `users` set, the one
 * cluster-wide set: a single slot, touched only by user writes and listings, never by a decision.
 * The record is written first and the set second (and the other way round on delete), so a
 * listing never names a user whose record was not written; list() skips ids whose record is gone.
 */
import type { User } from "../../core/types.ts";
import type { UserStore } from "../../ports.ts";
import { flattenFields, userFromFields, userPatchToFields } from "./codec.ts";
import type { RedisContext } from "./context.ts";

export function createRedisUserStore({ client, keys, scripts, confirmation }: RedisContext): UserStore {
  const get = async (userId: string) => userFromFields(userId, await client.hgetall(keys.user(userId)));

  return {
    get,

    async put(user: User) {
      const { id, ...rest } = user;
      await scripts.replaceHash(keys.user(id), flattenFields(userPatchToFields(rest)));
      await client.sadd(keys.users(), id);
    },

    async update(userId, patch) {
      const fields = flattenFields(userPatchToFields(patch));
      // Suspension, resumption and group changes: confirmed or refused.
      const confirm = confirmation.track(keys.user(userId));
      const updated = await scripts.patchHash(keys.user(userId), fields);
      await confirm();
      return updated === 1;
    },

    async delete(userId) {
      const confirm = confirmation.track(keys.user(userId));
      const deleted = (await client.del(keys.user(userId))) === 1;
      await client.srem(keys.users(), userId);
      await confirm();
      return deleted;
    },

    async list() {
      const ids = (await client.smembers(keys.users())).sort();
      const users = await Promise.all(ids.map(get));
      return users.filter((user): user is User => user !== undefined);
    },

    count: () => client.scard(keys.users()),
  };
}
