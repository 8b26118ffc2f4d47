/** ioredis traces commands only when someone listens (Bun lacks TracingChannel.hasSubscribers). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import diagnostics from "node:diagnostics_channel";
import type Redis from "ioredis";
import {
  createRedisClient,
  ensureTracingHasSubscribers,
  waitForRedis,
} from "../../src/adapters/redis/index.ts";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";

let redis: RedisHandle;
let client: Redis;

beforeAll(async () => {
  ensureTracingHasSubscribers(); // as server.ts does at start
  redis = await startRedis();
  client = createRedisClient(redis.url, { commandTimeoutMs: 500 });
  await waitForRedis(client, 5_000);
});

afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

test("no tracing without a subscriber; a subscriber still sees every command", async () => {
  const channel = diagnostics.tracingChannel("ioredis:command");
  expect(channel.hasSubscribers).toBe(false);
  const seen: string[] = [];
  const handlers = {
    start(context: unknown) {
      seen.push(String((context as { command?: string }).command));
    },
    end() {},
    asyncStart() {},
    asyncEnd() {},
    error() {},
  };
  channel.subscribe(handlers);
  try {
    expect(channel.hasSubscribers).toBe(true);
    await client.ping();
    expect(seen.map((name) => name.toLowerCase())).toContain("ping");
  } finally {
    channel.unsubscribe(handlers);
  }
  expect(channel.hasSubscribers).toBe(false);
  seen.length = 0;
  await client.ping();
  expect(seen).toEqual([]);
});
