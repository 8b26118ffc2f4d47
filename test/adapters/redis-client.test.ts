import { describe, expect, test } from "bun:test";
import { Cluster } from "ioredis";
import {
  clusterSeeds,
  createRedisClient,
  createStoreClient,
  reconnectDelayMs,
  reconnectOnReadOnly,
  sentinelOptions,
} from "../../src/adapters/redis/client.ts";

describe("redis client tuning", () => {
  test("reconnects fast and forever: never more than 500 ms between tries", () => {
    expect(reconnectDelayMs(1)).toBe(50);
    expect(reconnectDelayMs(4)).toBe(200);
    expect(reconnectDelayMs(10)).toBe(500);
    expect(reconnectDelayMs(10_000)).toBe(500);
  });

  test("refuses URLs that are not redis://, rediss:// or redis+sentinel://", () => {
    expect(() => createRedisClient("http://127.0.0.1:1", { commandTimeoutMs: 100 })).toThrow(/redis:\/\//);
    expect(() => createRedisClient("127.0.0.1:6379", { commandTimeoutMs: 100 })).toThrow(/redis:\/\//);
  });

  test("parses redis+sentinel:// URLs into ioredis Sentinel options", () => {
    expect(sentinelOptions("redis+sentinel://s1:26379,s2:26380/mymaster")).toEqual({
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
      ],
      name: "mymaster",
    });
    expect(sentinelOptions("redis+sentinel://vigil:p%40ss@[fd00::1],s2/main/2")).toEqual({
      sentinels: [
        { host: "fd00::1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      name: "main",
      db: 2,
      username: "vigil",
      password: "p@ss",
    });
    expect(sentinelOptions("redis+sentinel://:secret@s1/main").password).toBe("secret");
    expect(() => sentinelOptions("redis+sentinel://s1:26379")).toThrow(/master/);
  });

  test("Sentinel clients leave a demoted primary: failover detector on, reconnect on READONLY", () => {
    const client = createRedisClient("redis+sentinel://127.0.0.1:1/main", { commandTimeoutMs: 100 });
    try {
      expect(client.options.failoverDetector).toBe(true);
      expect(client.options.reconnectOnError).toBe(reconnectOnReadOnly);
    } finally {
      client.disconnect();
    }
    expect(reconnectOnReadOnly(new Error("READONLY You can't write against a read only replica."))).toBe(1);
    expect(reconnectOnReadOnly(new Error("OOM command not allowed"))).toBe(false);
  });

  test("parses redis+cluster:// and rediss+cluster:// seed lists with the same userinfo forms", () => {
    expect(clusterSeeds("redis+cluster://r1:7000,r2:7001")).toEqual({
      nodes: [
        { host: "r1", port: 7000 },
        { host: "r2", port: 7001 },
      ],
      credentials: {},
      tls: false,
    });
    expect(clusterSeeds("rediss+cluster://vigil:p%40ss@[fd00::1]:7000,r2/")).toEqual({
      nodes: [
        { host: "fd00::1", port: 7000 },
        { host: "r2", port: 6379 },
      ],
      credentials: { username: "vigil", password: "p@ss" },
      tls: true,
    });
    expect(clusterSeeds("redis+cluster://:secret@r1:7000").credentials).toEqual({ password: "secret" });
    expect(() => clusterSeeds("redis+cluster://r1:7000/0")).toThrow(/redis\+cluster:\/\//);
  });

  test("a cluster URL makes a Cluster client, never a single connection", () => {
    const client = createStoreClient("redis+cluster://127.0.0.1:1", { commandTimeoutMs: 100 });
    try {
      expect(client).toBeInstanceOf(Cluster);
    } finally {
      client.disconnect();
    }
    expect(() => createRedisClient("redis+cluster://127.0.0.1:1", { commandTimeoutMs: 100 })).toThrow(
      /createStoreClient/,
    );
  });
});
