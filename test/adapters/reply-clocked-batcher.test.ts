/**
 * The reply-clocked batcher against a real Redis: every caller gets its own reply whether its command rode
 * in a full batch or the end-of-turn one, and a stalled Redis (CLIENT PAUSE) makes overdue
 * commands reject after the timeout, while later replies still reach the right callers.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Command, type default as Redis } from "ioredis";
import { createRedisClient, waitForRedis } from "../../src/adapters/redis/client.ts";
import { createReplyClockedBatcher } from "../../src/adapters/redis/reply-clocked-batcher.ts";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";

const TIMEOUT_MS = 300;
/** Batch as soon as one command is outstanding, so every test exercises batches. */
const BATCHING = { batchFrom: 1, batchLimit: 8 };

let redis: RedisHandle;
let client: Redis;
let admin: Redis;

beforeAll(async () => {
  redis = await startRedis({ own: true }); // own: CLIENT PAUSE would stall a shared server
  client = createRedisClient(redis.url, { commandTimeoutMs: TIMEOUT_MS });
  admin = createRedisClient(redis.url, { commandTimeoutMs: 2_000 });
  await Promise.all([waitForRedis(client, 5_000), waitForRedis(admin, 5_000)]);
});
afterAll(async () => {
  client?.disconnect();
  admin?.disconnect();
  await redis?.stop();
});

test("every caller gets its own reply: alone, in full batches, and in the batch a reply sends", async () => {
  const batcher = createReplyClockedBatcher(client, { ...BATCHING, timeoutMs: TIMEOUT_MS });
  // 29 in one turn: the first leaves alone, three full batches of 8 follow, and the last 4 leave
  // when the first replies arrive.
  const first = Array.from({ length: 29 }, (_, i) => batcher.send("echo", [`a${i}`]));
  expect(await Promise.all(first)).toEqual(Array.from({ length: 29 }, (_, i) => `a${i}`));
  const second = await Promise.all([batcher.send("echo", ["b"]), batcher.send("incrby", ["batch:n", 2])]);
  expect(second).toEqual(["b", 2]);
});

test("a quiet connection sends at once; a busy one holds commands and sends them in one write", async () => {
  const batcher = createReplyClockedBatcher(client, { batchFrom: 2, batchLimit: 4, timeoutMs: TIMEOUT_MS });
  const socket = client.stream;
  const write = socket.write;
  let writes = 0;
  socket.write = function (this: typeof socket, ...args: Parameters<typeof write>) {
    writes++;
    return write.apply(this, args);
  } as typeof write;
  try {
    const replies = [batcher.send("echo", ["q0"])]; // nothing outstanding: sent now
    expect([writes, client.commandQueue.length]).toEqual([1, 1]);
    replies.push(batcher.send("echo", ["q1"])); // one outstanding (< 2): sent now
    expect([writes, client.commandQueue.length]).toEqual([2, 2]);
    for (let i = 2; i < 5; i++) replies.push(batcher.send("echo", [`q${i}`])); // held
    expect([writes, client.commandQueue.length]).toEqual([2, 2]);
    replies.push(batcher.send("echo", ["q5"])); // the fourth held: the batch leaves, one write
    expect([writes, client.commandQueue.length]).toEqual([3, 6]);
    replies.push(batcher.send("echo", ["q6"])); // held until a reply arrives
    expect([writes, client.commandQueue.length]).toEqual([3, 6]);
    expect(await Promise.all(replies)).toEqual(["q0", "q1", "q2", "q3", "q4", "q5", "q6"]);
    expect(writes).toBe(4);
  } finally {
    socket.write = write;
  }
});

test("a command held behind other callers' commands leaves when their replies arrive", async () => {
  const own = createRedisClient(redis.url, { commandTimeoutMs: 5_000 });
  try {
    await waitForRedis(own, 5_000);
    // A fresh connection the batcher has never written to, busy with someone else's commands.
    const others = Array.from({ length: 3 }, (_, i) => {
      const command = new Command("echo", [`other${i}`], { replyEncoding: "utf8" });
      own.sendCommand(command);
      return command.promise;
    });
    const batcher = createReplyClockedBatcher(own, { batchFrom: 2, batchLimit: 8, timeoutMs: 5_000 });
    const started = performance.now();
    expect(await batcher.send("echo", ["held"])).toBe("held");
    // Sent by the others' replies, not by the 5 s watchdog.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await Promise.all(others)).toEqual(["other0", "other1", "other2"]);
  } finally {
    own.disconnect();
  }
});

test("an error reply rejects only its own caller", async () => {
  const batcher = createReplyClockedBatcher(client, { ...BATCHING, timeoutMs: TIMEOUT_MS });
  const replies = await Promise.allSettled([
    batcher.send("echo", ["before"]),
    batcher.send("evalsha", ["0".repeat(40), 0]),
    batcher.send("echo", ["after"]),
  ]);
  expect(replies[0]).toEqual({ status: "fulfilled", value: "before" });
  expect(replies[1]?.status).toBe("rejected");
  expect(String((replies[1] as PromiseRejectedResult).reason)).toContain("NOSCRIPT");
  expect(replies[2]).toEqual({ status: "fulfilled", value: "after" });
});

test("a stalled Redis: overdue commands reject after the timeout; late replies never reach later callers", async () => {
  const batcher = createReplyClockedBatcher(client, { ...BATCHING, timeoutMs: TIMEOUT_MS });
  await admin.call("client", "pause", "1200", "ALL");
  const started = performance.now();
  const stalled = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) => batcher.send("echo", [`stalled${i}`])),
  );
  const waited = performance.now() - started;
  expect(stalled.map((r) => r.status)).toEqual(Array(10).fill("rejected"));
  expect(String((stalled[0] as PromiseRejectedResult).reason)).toContain("Command timed out");
  expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
  // Every command times out from when it was handed over, the held-back ones too: the pause lasts
  // 1.2 s, so the watchdog, not a reply, ended the wait.
  expect(waited).toBeLessThan(TIMEOUT_MS + 400);

  // The stalled commands' replies arrive after the pause and are consumed by them, not by these.
  await Bun.sleep(1_300 - waited);
  const later = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.send("echo", [`later${i}`])));
  expect(later).toEqual(Array.from({ length: 10 }, (_, i) => `later${i}`));
});

test("a command held behind commands that already timed out still times out on its own", async () => {
  const batcher = createReplyClockedBatcher(client, { ...BATCHING, timeoutMs: TIMEOUT_MS });
  await admin.call("client", "pause", "1500", "ALL");
  // The first call times out but stays in ioredis's queue until its late reply: the connection
  // now looks busy, so the next call is held, and no reply will come to send it.
  await expect(batcher.send("echo", ["first"])).rejects.toThrow("Command timed out");
  // Held with no watchdog of its own, it would leave with the first call's late reply and be
  // answered "held" once the pause ends; only its own timeout rejects it.
  await expect(batcher.send("echo", ["held"])).rejects.toThrow("Command timed out");
  await Bun.sleep(1_300);
  expect(await batcher.send("echo", ["after"])).toBe("after");
});

test("without a timeout nothing is timed: a paused Redis answers late, and the caller gets it", async () => {
  const batcher = createReplyClockedBatcher(client, { ...BATCHING, timeoutMs: undefined });
  await admin.call("client", "pause", "500", "ALL");
  const started = performance.now();
  expect(await batcher.send("echo", ["late"])).toBe("late");
  expect(performance.now() - started).toBeGreaterThanOrEqual(400);
});

test("commands in flight when the connection drops are resent on the new one, each reply to its caller", async () => {
  const own = createRedisClient(redis.url, { commandTimeoutMs: 2_000 });
  try {
    await waitForRedis(own, 5_000);
    const batcher = createReplyClockedBatcher(own, { ...BATCHING, timeoutMs: 2_000 });
    const sent = Array.from({ length: 12 }, (_, i) => batcher.send("echo", [`inflight${i}`]));
    // The end-of-turn batch has left; drop the socket before any reply can be read.
    await new Promise((resolve) => setImmediate(resolve));
    own.stream.destroy();
    const replies = await Promise.allSettled(sent);
    // ioredis resends unanswered commands after reconnecting: each caller gets its own echo (a
    // rejection would also be safe; a reply meant for another command never is).
    for (const [i, reply] of replies.entries()) {
      if (reply.status === "fulfilled") expect(reply.value).toBe(`inflight${i}`);
    }
    expect(replies.filter((r) => r.status === "fulfilled").length).toBeGreaterThan(0);
    const later = await Promise.all(Array.from({ length: 5 }, (_, i) => batcher.send("echo", [`next${i}`])));
    expect(later).toEqual(Array.from({ length: 5 }, (_, i) => `next${i}`));
  } finally {
    own.disconnect();
  }
});
