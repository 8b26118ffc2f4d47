/**
 * `vigil migrate-keys` as a real process: a store written in the key layout before hash tags
 * (seeded here with the commands that layout's code sent) keeps its users and passkeys; old
 * sessions, rate windows and reputation points are dropped.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type Redis from "ioredis";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import { legacyKeysPresent } from "../../src/adapters/redis/migrate-keys.ts";
import type { Stores } from "../../src/ports.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { runCli, tempFile } from "../helpers/vigil-process.ts";

// Each test runs the CLI as real processes, a second or more apiece on a busy machine.
setDefaultTimeout(30_000);

let redis: RedisHandle;
let client: Redis;
let stores: Stores;
let prefix: string;
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  prefix = uniquePrefix();
  client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await waitForRedis(client, 5000);
  stores = createRedisStores(client, prefix);
  env = {
    REDIS_URL: redis.url,
    VIGIL_CONFIG: tempFile("migrate.yaml", JSON.stringify({ redis: { prefix } })),
  };
});

afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

const oldSessionId = "ab".repeat(32);

async function seedOldLayout() {
  await client.sadd(`${prefix}users`, "alice", "bob");
  await client.hset(`${prefix}user:alice`, {
    displayName: "Alice",
    status: "active",
    groups: '["admins"]',
    createdAt: "100",
  });
  await client.hset(`${prefix}user:bob`, {
    displayName: "Bob",
    status: "suspended",
    groups: "[]",
    createdAt: "200",
  });
  await client.sadd(`${prefix}user-creds:alice`, "cred-a1", "cred-a2");
  for (const [id, createdAt] of [
    ["cred-a1", "1000"],
    ["cred-a2", "2000"],
  ] as const) {
    await client.hset(`${prefix}cred:${id}`, {
      userId: "alice",
      publicKey: `pk-${id}`,
      counter: "3",
      transports: '["internal"]',
      deviceType: "multiDevice",
      backedUp: "1",
      createdAt,
      lastUsedAt: createdAt,
      label: "passkey",
    });
  }
  await client.hset(`${prefix}session:${oldSessionId}`, { userId: "alice", acr: "phr", expiresAt: "9" });
  await client.pexpire(`${prefix}session:${oldSessionId}`, 3_600_000);
  await client.sadd(`${prefix}user-sessions:alice`, oldSessionId);
  await client.hset(`${prefix}rate:29000000`, "ip:192.0.2.1", "4");
  await client.set(`${prefix}ctr:iprep:192.0.2.1`, "15");
}

test("users and passkeys survive the move; old sessions and counters are dropped; a second run is a no-op", async () => {
  await seedOldLayout();
  expect(await legacyKeysPresent(client, prefix)).toBe(true);
  // Before the move the new layout does not see them.
  expect(await stores.users.get("alice")).toBeUndefined();

  const first = await runCli(["migrate-keys"], env);
  expect(first.code).toBe(0);
  expect(first.stdout).toContain("moved 2 users and 2 passkeys; dropped 4 old");

  expect(await stores.users.get("alice")).toEqual({
    id: "alice",
    displayName: "Alice",
    status: "active",
    groups: ["admins"],
    createdAt: 100,
  });
  expect((await stores.users.get("bob"))?.status).toBe("suspended");
  expect((await stores.users.list()).map((u) => u.id)).toEqual(["alice", "bob"]);
  expect(await stores.credentials.get("cred-a1")).toEqual({
    id: "cred-a1",
    userId: "alice",
    publicKey: "pk-cred-a1",
    counter: 3,
    transports: ["internal"],
    deviceType: "multiDevice",
    backedUp: true,
    createdAt: 1000,
    lastUsedAt: 1000,
    label: "passkey",
  });
  expect((await stores.credentials.listByUser("alice")).map((c) => c.id)).toEqual(["cred-a1", "cred-a2"]);
  // A migrated passkey is still registered once: the same id cannot be enrolled again.
  expect(await stores.credentials.add({ ...(await stores.credentials.get("cred-a1"))!, userId: "bob" })).toBe(
    false,
  );

  const leftovers = await client.keys(`${prefix}*`);
  for (const old of ["user:", "cred:", "user-creds:", "session:", "user-sessions:", "rate:", "ctr:"]) {
    expect(leftovers.filter((key) => key.startsWith(prefix + old))).toEqual([]);
  }
  expect(await legacyKeysPresent(client, prefix)).toBe(false);
  expect(await stores.sessions.listByUser("alice")).toEqual([]);

  const second = await runCli(["migrate-keys"], env);
  expect(second.code).toBe(0);
  expect(second.stdout).toContain("moved 0 users and 0 passkeys; dropped 0 old");
  expect((await stores.credentials.listByUser("alice")).map((c) => c.id)).toEqual(["cred-a1", "cred-a2"]);
});
