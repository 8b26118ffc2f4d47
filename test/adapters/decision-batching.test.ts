/**
 * How decision calls reach Redis: through the reply-clocked batcher when this ioredis has the
 * internals it needs, else (or with redis.batching off) as plain EVALSHA on the auto-pipelined
 * client, with a warning. Every path gives the same answers, on a real Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis, { Command } from "ioredis";
import { createRedisStores, type DecisionBatching, waitForRedis } from "../../src/adapters/redis/index.ts";
import { missingBatcherInternals } from "../../src/adapters/redis/reply-clocked-batcher.ts";
import type { DecisionState, Stores } from "../../src/ports.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";

/** A real client that counts decision calls sent the batcher's way, and can lack the pipeline protocol. */
class RecordingRedis extends Redis {
  batchedCalls = 0;
  constructor(
    url: string,
    readonly honoursPipelineStream: boolean,
  ) {
    super(url, { enableAutoPipelining: true, enableOfflineQueue: false, commandTimeout: 2_000 });
  }
  override sendCommand(command: Command, stream?: Parameters<Redis["sendCommand"]>[1]): unknown {
    // The batcher's commands are the ones whose per-command timer is switched off.
    if (/^eval/.test(command.name) && command.setTimeout !== Command.prototype.setTimeout)
      this.batchedCalls++;
    return this.honoursPipelineStream ? super.sendCommand(command, stream) : super.sendCommand(command);
  }
}

let redis: RedisHandle;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis?.stop();
});

async function connect(honoursPipelineStream: boolean): Promise<RecordingRedis> {
  const client = new RecordingRedis(redis.url, honoursPipelineStream);
  client.on("error", () => {});
  clients.push(client);
  await waitForRedis(client, 5_000);
  return client;
}

const NOW = 1_800_000_000_000;

/** One signed-in user's decision read, twice (the second sees the first's rate count). */
async function decisionReads(stores: Stores): Promise<DecisionState[]> {
  await stores.users.put({
    id: "ida",
    displayName: "Ida",
    status: "active",
    groups: ["staff"],
    createdAt: NOW,
  });
  const { session } = await stores.sessions.create(
    {
      userId: "ida",
      acr: "phr",
      amr: ["hwk", "user"],
      authAt: NOW,
      stepUpAt: 0,
      ip: "192.0.2.1",
      country: "DE",
      uaHash: "ua",
    },
    NOW,
    3_600_000,
  );
  const read = (now: number) =>
    stores.decisions.read({
      sessionId: session.id,
      userId: undefined,
      clientKey: "192.0.2.1",
      now,
      rateWindowMs: 60_000,
      location: undefined,
      idleTimeoutMs: 3_600_000,
    });
  const first = await read(NOW + 1_000);
  const second = await read(NOW + 2_000);
  // The handle is a hash of a random token: equal records, different handles.
  for (const state of [first, second]) if (state.session) state.session.id = "the-session";
  return [first, second];
}

describe("decision batching", () => {
  test("this ioredis has every internal the batcher needs", async () => {
    expect(missingBatcherInternals(await connect(true))).toEqual([]);
  });

  test("a client without sendCommand's pipeline protocol: plain EVALSHA, a warning, the same answers", async () => {
    const batchedClient = await connect(true);
    const batched = await decisionReads(createRedisStores(batchedClient, uniquePrefix()));
    expect(batchedClient.batchedCalls).toBeGreaterThan(0);

    const plainClient = await connect(false);
    const warnings: (readonly string[])[] = [];
    const batching: DecisionBatching = { enabled: true, onUnavailable: (missing) => warnings.push(missing) };
    const plain = await decisionReads(createRedisStores(plainClient, uniquePrefix(), { batching }));
    expect(warnings).toEqual([["sendCommand's pipeline protocol"]]);
    expect(plainClient.batchedCalls).toBe(0);
    expect(plain).toEqual(batched);
    expect(plain[1]!.rate.session).toBeGreaterThan(plain[0]!.rate.session);
  });

  test("redis.batching off: plain EVALSHA without a warning, the same answers", async () => {
    const reference = await decisionReads(createRedisStores(await connect(true), uniquePrefix()));
    const client = await connect(true);
    const warnings: (readonly string[])[] = [];
    const stores = createRedisStores(client, uniquePrefix(), {
      batching: { enabled: false, onUnavailable: (missing) => warnings.push(missing) },
    });
    expect(await decisionReads(stores)).toEqual(reference);
    expect(client.batchedCalls).toBe(0);
    expect(warnings).toEqual([]);
  });
});
