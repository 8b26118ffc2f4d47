import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type Redis from "ioredis";
import { decisionCall, decisionKeys } from "../../src/adapters/redis/decision-state-reader.ts";
import {
  createRedisClient,
  createRedisStores,
  keyLayout,
  waitForRedis,
} from "../../src/adapters/redis/index.ts";
import { slidingCount, windowIndex } from "../../src/adapters/redis/sliding-window.ts";
import { type DecisionStateQuery, ipReputationKey } from "../../src/ports.ts";
import { sessionIdOf } from "../../src/session/token.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { signIn } from "../helpers/vigil.ts";
import { runStoreContract } from "./store-contract.ts";

/** The outage test's client: how soon a read to a dead Redis fails (the product's default). */
const COMMAND_TIMEOUT_MS = 500;
/** The shared client's: a busy test machine may hold a live Redis's answer past 500 ms. */
const LIVE_COMMAND_TIMEOUT_MS = 5_000;

let redis: RedisHandle;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url, { commandTimeoutMs: LIVE_COMMAND_TIMEOUT_MS });
  await waitForRedis(client, 5_000);
});

afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

runStoreContract("redis", (options) => createRedisStores(client, uniquePrefix(), options));

const decisionQuery = (overrides: Partial<DecisionStateQuery> = {}): DecisionStateQuery => ({
  sessionId: undefined,
  userId: undefined,
  clientKey: "198.51.100.9",
  now: Date.now(),
  rateWindowMs: 60_000,
  location: { lat: 1, lon: 2 },
  idleTimeoutMs: 3_600_000,
  ...overrides,
});

describe("redis stores", () => {
  test("one record, two readers: the decision read and the store read decode it alike", async () => {
    const prefix = uniquePrefix();
    const stores = createRedisStores(client, prefix);
    const now = Date.now();
    await stores.users.put({
      id: "rue",
      displayName: "Rue",
      status: "active",
      groups: ["a", "b"],
      createdAt: now,
    });
    const { session } = await stores.sessions.create(
      {
        userId: "rue",
        acr: "phr",
        amr: ["hwk", "user", "mfa"],
        authAt: now - 5_000,
        stepUpAt: now - 1_000,
        ip: "192.0.2.7",
        country: "NL",
        uaHash: "ua-hash",
        federation: { provider: "corp", subject: "sub-1", sid: "sid-1" },
      },
      now,
      3_600_000,
    );
    const stored = await stores.sessions.get(session.id);
    const state = await stores.decisions.read(decisionQuery({ sessionId: session.id, now: now + 10 }));
    // The decision reads every field it decides on; the IdP link is not one of them.
    const { federation, ...decided } = stored!;
    expect(federation).toEqual({ provider: "corp", subject: "sub-1", sid: "sid-1" });
    expect(state.session).toEqual(decided);
    expect(state.user).toEqual(await stores.users.get("rue"));
    // A damaged status is "suspended" through both readers.
    await client.hset(keyLayout(prefix).user("rue"), "status", "garbled");
    const damaged = await stores.decisions.read(decisionQuery({ sessionId: session.id, now: now + 20 }));
    expect(damaged.user?.status).toBe("suspended");
    expect(damaged.user).toEqual(await stores.users.get("rue"));
  });

  test("keys follow the documented layout under the prefix", async () => {
    const prefix = uniquePrefix();
    const stores = createRedisStores(client, prefix);
    await stores.users.put({ id: "alice", displayName: "A", status: "active", groups: ["g"], createdAt: 1 });
    const { session } = await stores.sessions.create(
      {
        userId: "alice",
        acr: "phr",
        amr: ["hwk", "user"],
        authAt: 1,
        stepUpAt: 0,
        ip: "192.0.2.1",
        country: "DE",
        uaHash: "h",
      },
      Date.now(),
      3_600_000,
    );
    expect(await client.hgetall(`${prefix}{u:alice}:user`)).toEqual({
      displayName: "A",
      status: "active",
      groups: '["g"]',
      createdAt: "1",
    });
    expect(await client.sismember(`${prefix}users`, "alice")).toBe(1);
    const [tag, hash] = session.id.split(".");
    expect(tag).toBe(Buffer.from("alice").toString("base64url"));
    expect(await client.zscore(`${prefix}{u:alice}:sessions`, hash!)).toBe(
      String(session.createdAt + 3_600_000),
    );
    const stored = await client.hgetall(`${prefix}{u:alice}:s:${hash}`);
    expect(stored.amr).toBe("hwk,user");
    expect(Number(stored.expiresAt)).toBe(session.createdAt + 3_600_000);
    const ttl = await client.pttl(`${prefix}{u:alice}:s:${hash}`);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  test("the decision script reads and counts under keys.ts's keys, whatever the prefix holds", async () => {
    // Quotes, a backslash, Lua's long-bracket close, a newline, digits after an escape, non-ASCII.
    const prefix = `${uniquePrefix()}q"b\\]]\n\u00017€:`;
    const stores = createRedisStores(client, prefix);
    const keys = keyLayout(prefix);
    const now = Date.now();
    const session = await signIn(stores, { id: "zoë" }, now, { acr: "phr", amr: ["hwk"], ip: "192.0.2.1" });
    await stores.counters.add(ipReputationKey("198.51.100.9"), 7, 60_000);
    const query = decisionQuery({ sessionId: session.sessionId, now });
    await stores.decisions.read(query);
    const state = await stores.decisions.read(query);
    expect(state.session?.userId).toBe("zoë");
    expect(state.user?.status).toBe("active");
    expect(state.ipReputation).toBe(7);
    expect(state.rate).toEqual({ session: 2, user: 2, ip: 2 });
    const index = windowIndex(now, 60_000);
    const sessionKey = keys.session("zoë", session.sessionId.split(".")[1]!);
    expect(await client.hmget(sessionKey, "lastSeenAt", "rateWindow", "rateCount")).toEqual([
      String(now),
      String(index),
      "2",
    ]);
    expect(await client.get(keys.userRate("zoë", index))).toBe("2");
    expect(await client.get(keys.ipRate("198.51.100.9", index))).toBe("2");
    // Per-entity counters expire on their own after two windows.
    for (const key of [keys.userRate("zoë", index), keys.ipRate("198.51.100.9", index)]) {
      expect(await client.pttl(key)).toBeGreaterThan(60_000);
      expect(await client.pttl(key)).toBeLessThanOrEqual(120_000);
    }
  });

  test("the decision's keys are keys.ts's keys: the client's slot, then the user's", () => {
    const keys = keyLayout("p:");
    const now = 120_000;
    const sessionId = sessionIdOf("z{o}%ë", "cd".repeat(32));
    const call = decisionKeys(
      decisionCall(keys, decisionQuery({ sessionId, clientKey: "2001:db8::/64", now })),
    );
    expect(call.clientKeys).toEqual([
      keys.ipRate("2001:db8::/64", 2),
      keys.ipRate("2001:db8::/64", 1),
      keys.ipReputation("2001:db8::/64"),
    ]);
    expect(call.userKeys).toEqual([
      keys.session("z{o}%ë", "cd".repeat(32)),
      keys.userSessions("z{o}%ë"),
      keys.user("z{o}%ë"),
      keys.userRate("z{o}%ë", 2),
      keys.userRate("z{o}%ë", 1),
    ]);
    expect(keys.user("z{o}%ë")).toBe("p:{u:z%7Bo%7D%25ë}:user");
    const bearer = decisionKeys(decisionCall(keys, decisionQuery({ userId: "svc", now })));
    expect(bearer.userKeys[0]).toBe(keys.user("svc"));
    expect(decisionKeys(decisionCall(keys, decisionQuery({ now }))).userKeys).toEqual([]);
  });

  test("the whole decision script builds keys.ts's keys itself: counters, session and reputation of escaped ids", async () => {
    const prefix = uniquePrefix();
    const stores = createRedisStores(client, prefix);
    const keys = keyLayout(prefix);
    const user = "z{o}%ë";
    const clientKey = "2001:db8::/64";
    const window = 60_000;
    const now = Date.now();
    const index = windowIndex(now, window);
    const session = await signIn(stores, { id: user, groups: ["g"] }, now);
    const hash = session.sessionId.slice(session.sessionId.indexOf(".") + 1);
    // The previous windows and the reputation, written under keys.ts's names only.
    await client.set(keys.ipRate(clientKey, index - 1), "7");
    await client.set(keys.userRate(user, index - 1), "5");
    await client.set(keys.ipReputation(clientKey), "3");
    const before = new Set(await client.keys(`${prefix}*`));

    const state = await stores.decisions.read(
      decisionQuery({ sessionId: session.sessionId, clientKey, now, rateWindowMs: window }),
    );
    expect(state.session?.userId).toBe(user);
    expect(state.user?.groups).toEqual(["g"]);
    expect(state.ipReputation).toBe(3);
    expect(state.rate.ip).toBeCloseTo(slidingCount(1, 7, now, window));
    expect(state.rate.user).toBeCloseTo(slidingCount(1, 5, now, window));
    // Exactly this window's two counters are new; the session hash took the read.
    const added = (await client.keys(`${prefix}*`)).filter((key) => !before.has(key)).sort();
    expect(added).toEqual([keys.ipRate(clientKey, index), keys.userRate(user, index)].sort());
    expect(await client.hget(keys.session(user, hash), "lastSeenAt")).toBe(String(now));
  });

  test("the session index holds live sessions only and expires with the last of them", async () => {
    const prefix = uniquePrefix();
    const stores = createRedisStores(client, prefix);
    const keys = keyLayout(prefix);
    const input = {
      userId: "ivy",
      acr: "phr",
      amr: [],
      authAt: 1,
      stepUpAt: 0,
      ip: "192.0.2.1",
      country: "",
      uaHash: "",
    };
    // Short-lived sessions, with room for a busy machine between creating them and counting them.
    const started = Date.now();
    for (let i = 0; i < 5; i++) await stores.sessions.create(input, Date.now(), 1_000);
    if (Date.now() - started < 900) expect(await client.zcard(keys.userSessions("ivy"))).toBe(5);
    await Bun.sleep(1_100);
    const { session } = await stores.sessions.create(input, Date.now(), 3_600_000);
    expect(await client.zrange(keys.userSessions("ivy"), "0", "-1")).toEqual([session.id.split(".")[1]!]);
    const ttl = await client.pttl(keys.userSessions("ivy"));
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  test("a decision read is exactly one script call (one round trip)", async () => {
    const stores = createRedisStores(client, uniquePrefix());
    const session = await signIn(stores, { id: "alice" }, Date.now(), {
      acr: "phr",
      amr: [],
      ip: "192.0.2.1",
    });
    // Only what our client sends counts (a shared REDIS_URL server may be busy with other tests).
    const info = String(await client.client("INFO"));
    const ourAddress = /\baddr=(\S+)/.exec(info)?.[1];
    expect(ourAddress).toBeDefined();
    const monitor = await client.monitor(); // its own connection
    const seen: string[][] = [];
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      // Commands run inside a script show up with source "lua", not the client's address.
      if (source === ourAddress) seen.push(args);
    });
    try {
      await Bun.sleep(50);
      const reads = 5;
      for (let i = 0; i < reads; i++)
        await stores.decisions.read(decisionQuery({ sessionId: session.sessionId }));
      await Bun.sleep(100);
      const sent = seen;
      // EVAL the first time this script runs on the connection, EVALSHA afterwards: one call per read.
      expect(sent).toHaveLength(reads);
      for (const args of sent) expect(["eval", "evalsha"]).toContain(args[0]!.toLowerCase());
    } finally {
      monitor.disconnect();
    }
  });

  test("the decision read survives SCRIPT FLUSH (NOSCRIPT falls back to EVAL) and still reads live state", async () => {
    const stores = createRedisStores(client, uniquePrefix());
    const session = await signIn(stores, { id: "bob", groups: ["g"] }, Date.now(), {
      acr: "phr",
      amr: ["hwk"],
      ip: "192.0.2.1",
    });
    const first = await stores.decisions.read(decisionQuery({ sessionId: session.sessionId }));
    expect(first.user?.status).toBe("active");
    await client.script("FLUSH");
    await stores.users.put({ id: "bob", displayName: "B", status: "suspended", groups: ["g"], createdAt: 1 });
    const afterFlush = await stores.decisions.read(decisionQuery({ sessionId: session.sessionId }));
    expect(afterFlush.session?.userId).toBe("bob");
    expect(afterFlush.user?.status).toBe("suspended");
    expect(afterFlush.rate.session).toBeGreaterThanOrEqual(2);
  });

  test("the health check answers and reports its kind", async () => {
    const { health } = createRedisStores(client, uniquePrefix());
    expect(health.kind).toBe("redis");
    expect(await health.ping()).toBe(true);
  });
});

describe("redis outage (own server)", () => {
  test("reads fail closed quickly while Redis is down and recover on the same client", async () => {
    const own = await startRedis({ own: true });
    const faultClient = createRedisClient(own.url, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
    try {
      await waitForRedis(faultClient, 5_000);
      const stores = createRedisStores(faultClient, uniquePrefix());
      await stores.decisions.read(decisionQuery());

      await own.stop();
      for (let attempt = 0; attempt < 3; attempt++) {
        const started = performance.now();
        await expect(stores.decisions.read(decisionQuery())).rejects.toThrow();
        expect(performance.now() - started).toBeLessThan(1_000);
      }
      expect(await stores.health.ping().catch(() => false)).toBe(false);

      await own.restart();
      const restartedAt = performance.now();
      let recovered = false;
      while (!recovered && performance.now() - restartedAt < 2_000) {
        recovered = await stores.decisions.read(decisionQuery()).then(
          () => true,
          () => false,
        );
        if (!recovered) await Bun.sleep(25);
      }
      expect(recovered).toBe(true);
    } finally {
      faultClient.disconnect();
      await own.stop();
    }
  });
});
