/** FederationStore: the same behaviour from the Redis (real redis-server) and memory adapters. */
import { afterAll, describe, expect, test } from "bun:test";
import { createMemoryStores } from "../../src/adapters/memory/index.ts";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";

let redis: RedisHandle | undefined;
const closers: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const close of closers) await close();
  await redis?.stop();
});

async function redisStores(): Promise<Stores> {
  redis ??= await startRedis();
  const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await waitForRedis(client, 5000);
  const stores = createRedisStores(client, uniquePrefix());
  closers.push(() => stores.health.close());
  return stores;
}

const user = (id: string, groups: string[]) => ({
  id,
  displayName: id,
  status: "active" as const,
  groups,
  createdAt: 1,
});

for (const [name, make] of [
  ["redis", redisStores],
  ["memory", async () => createMemoryStores()],
] as const) {
  describe(`FederationStore (${name})`, () => {
    test("a subject and a user bind to each other once; other pairings are refused", async () => {
      const { federation, users } = await make();
      await users.put(user("alice", []));
      await users.put(user("bob", []));
      expect(await federation.bindSubject("corp", "sub-a", "alice")).toBe("ok");
      expect(await federation.bindSubject("corp", "sub-a", "alice")).toBe("ok");
      expect(await federation.bindSubject("corp", "sub-x", "alice")).toBe("user_taken");
      expect(await federation.bindSubject("corp", "sub-a", "bob")).toBe("subject_taken");
      expect(await federation.bindSubject("other", "sub-x", "alice")).toBe("ok"); // per provider
      expect(await federation.userOfSubject("corp", "sub-a")).toBe("alice");
      expect(await federation.userOfSubject("corp", "sub-{odd}\n")).toBeUndefined();
      // Deleting the user unlinks it: another IdP account may take the name.
      await users.delete("alice");
      await users.put({ ...user("alice", []), createdAt: 2 });
      expect(await federation.bindSubject("corp", "sub-new", "alice")).toBe("ok");
    });

    test("sids point at their user until their TTL", async () => {
      const { federation } = await make();
      await federation.rememberSid("corp", "sid-1", "alice", 60_000);
      await federation.rememberSid("corp", "sid-2", "bob", 1);
      await Bun.sleep(20);
      expect(await federation.userOfSid("corp", "sid-1")).toBe("alice");
      expect(await federation.userOfSid("corp", "sid-2")).toBeUndefined();
    });

    test("groups: each sign-in replaces the provider's set and keeps the Vigil-set groups", async () => {
      const { federation, users } = await make();
      await users.put(user("carol", ["local"]));
      expect(await federation.syncGroups("carol", "corp", ["staff", "admins"])).toEqual([
        "local",
        "staff",
        "admins",
      ]);
      await users.update("carol", {
        groups: [...((await users.get("carol"))?.groups ?? []), "added-by-admin"],
      });
      expect((await federation.syncGroups("carol", "corp", ["staff"]))?.sort()).toEqual([
        "added-by-admin",
        "local",
        "staff",
      ]);
      expect((await users.get("carol"))?.groups.sort()).toEqual(["added-by-admin", "local", "staff"]);
      expect(await federation.syncGroups("carol", "corp", [])).toEqual(["local", "added-by-admin"]);
      expect(await federation.syncGroups("nobody", "corp", ["x"])).toBeUndefined();
      expect(await users.get("nobody")).toBeUndefined();
    });
  });
}
