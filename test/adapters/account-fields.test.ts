/** The fields the account page adds, in both adapters: a session's device summary, a passkey's name. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createMemoryStores } from "../../src/adapters/memory/index.ts";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

for (const kind of ["memory", "redis"] as const) {
  test(`${kind}: device summary survives create and rotate; rename sets a passkey's name`, async () => {
    let stores: Stores;
    if (kind === "memory") stores = createMemoryStores();
    else {
      const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
      await waitForRedis(client, 5000);
      stores = createRedisStores(client, uniquePrefix());
    }
    const now = 1_700_000_000_000;
    const created = await stores.sessions.create(
      {
        userId: "u",
        acr: "passkey",
        amr: ["hwk"],
        authAt: now,
        stepUpAt: 0,
        ip: "192.0.2.1",
        country: "",
        uaHash: "",
        device: "Firefox 133 on Linux",
      },
      now,
      3600_000,
    );
    expect((await stores.sessions.get(created.session.id))?.device).toBe("Firefox 133 on Linux");
    const rotated = await stores.sessions.rotate(
      created.session.id,
      { stepUpAt: now + 1 },
      now + 1,
      3600_000,
    );
    expect((await stores.sessions.get(rotated?.session.id ?? ""))?.device).toBe("Firefox 133 on Linux");

    await stores.credentials.add({
      id: "cred-1",
      userId: "u",
      publicKey: "pQ",
      counter: 0,
      transports: [],
      deviceType: "singleDevice",
      backedUp: false,
      createdAt: now,
      lastUsedAt: 0,
      label: "passkey",
    });
    expect((await stores.credentials.get("cred-1"))?.name).toBeUndefined();
    expect(await stores.credentials.rename("cred-1", "Work laptop")).toBe(true);
    expect((await stores.credentials.get("cred-1"))?.name).toBe("Work laptop");
    expect((await stores.credentials.listByUser("u"))[0]?.name).toBe("Work laptop");
    expect(await stores.credentials.rename("nope", "x")).toBe(false);
    expect(await stores.credentials.get("nope")).toBeUndefined();
    await stores.health.close();
  });
}
