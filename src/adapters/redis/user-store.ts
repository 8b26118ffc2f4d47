/** Users as hashes `user:<id>` (groups as JSON), every id also in the `users` set. */
import type { User } from "../../core/types.ts";
import type { UserStore } from "../../ports.ts";
import { flattenFields, userFromFields, userPatchToFields } from "./codec.ts";
import type { RedisContext } from "./context.ts";

const NO_OWNER = "";

export function createRedisUserStore({ client, keys, scripts, confirmation }: RedisContext): UserStore {
  const get = async (userId: string) => userFromFields(userId, await client.hgetall(keys.user(userId)));

  return {
    get,

    async put(user: User) {
      const { id, ...rest } = user;
      await scripts.putIndexed(
        keys.user(id),
        keys.users(),
        NO_OWNER,
        id,
        0,
        flattenFields(userPatchToFields(rest)),
      );
    },

    async update(userId, patch) {
      const fields = flattenFields(userPatchToFields(patch));
      const confirm = confirmation.track(keys.user(userId));
      const updated = await scripts.patchIndexed(keys.user(userId), keys.users(), NO_OWNER, userId, fields);
      await confirm();
      return updated === 1;
    },

    async delete(userId) {
      const confirm = confirmation.track(keys.user(userId));
      const taken = await scripts.takeIndexed(keys.user(userId), keys.users(), NO_OWNER, userId);
      await confirm();
      return taken.length > 0;
    },

    async list() {
      const ids = (await client.smembers(keys.users())).sort();
      const users = await Promise.all(ids.map(get));
      return users.filter((user): user is User => user !== undefined);
    },

    count: () => client.scard(keys.users()),
  };
}
