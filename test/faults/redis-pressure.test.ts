/**
 * Redis under pressure, with a real redis-server:
 * - full (a tiny `maxmemory` with `noeviction`, so it refuses writes but still answers PING and
 *   reads): bypass rules keep answering, protected decisions fail closed (503) with a log line that
 *   says why, /readyz is not 200 and names the cause; once memory is freed, all recovers.
 * - down: the admin API answers 503 JSON ("retry"), not 500.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { createLogger } from "../../src/observe/logger.ts";
import { authRequest } from "../admin/forwarded.ts";
import { DATA_NODE_ARGS, type RedisNode, spawnRedisNode } from "../helpers/redis-sentinel.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

const TOKEN = "admin-token-for-tests-0123456789abcdef";
const POLICY = `
rules:
  - { name: public, paths: ["/public/**"], action: bypass }
  - { name: app, action: authenticated }
default: deny
`;

function logSink(lines: Array<Record<string, unknown>>): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
}

async function startOn(node: RedisNode, lines: Array<Record<string, unknown>>): Promise<TestVigil> {
  return startVigil({
    config: { admin: { token: TOKEN } },
    policyText: POLICY,
    store: { redisUrl: `redis://127.0.0.1:${node.port}` },
    deps: { logger: createLogger("info", logSink(lines)) },
  });
}

describe("Redis out of memory (maxmemory + noeviction)", () => {
  let redis: RedisNode;
  let vigil: TestVigil;
  const lines: Array<Record<string, unknown>> = [];
  let token: string;

  beforeAll(async () => {
    redis = await spawnRedisNode([...DATA_NODE_ARGS, "--maxmemory-policy", "noeviction"]);
    vigil = await startOn(redis, lines);
    ({ token } = await signIn(vigil.stores, { id: "olga" }, Date.now()));
    expect((await authRequest(vigil.url, { cookie: token })).status).toBe(200);
    // 1 MiB of data, so that a maxmemory below what it holds makes Redis refuse writes.
    const filler = redis.connect();
    const blob = "x".repeat(16 * 1024);
    for (let i = 0; i < 64; i++) await filler.set(`filler:${i}`, blob);
    filler.disconnect();
  }, 30_000);

  /** A maxmemory below what Redis holds, as when sessions outgrow it: writes are refused. */
  async function fill(): Promise<void> {
    const admin = redis.connect();
    const used = Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1]);
    await admin.config("SET", "maxmemory", String(used - 512 * 1024));
    await expect(admin.set("filler:last", "x")).rejects.toThrow(/^OOM/);
    admin.disconnect();
  }

  /** No memory limit: Redis takes writes again. */
  async function free(): Promise<void> {
    const admin = redis.connect();
    await admin.config("SET", "maxmemory", "0");
    admin.disconnect();
  }

  afterAll(async () => {
    await vigil?.close();
    await redis?.stop();
  });

  test("bypass rules answer, protected decisions fail closed and say why", async () => {
    await fill();
    try {
      expect((await authRequest(vigil.url, { uri: "/public/logo.svg" })).status).toBe(200);
      expect((await authRequest(vigil.url, { cookie: token })).status).toBe(503);
      expect((await authRequest(vigil.url, {})).status).toBe(503);
      const failure = lines.find((line) => line.msg === "store read failed on the decision path");
      expect(failure).toMatchObject({ cause: "out_of_memory", err: expect.stringMatching(/^OOM/) });
    } finally {
      await free();
    }
  });

  test("/readyz is 503 and names the cause while Redis refuses writes, 200 once it takes them again", async () => {
    await fill();
    const full = await fetch(`${vigil.url}/readyz`);
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ store: "unavailable", store_cause: "out_of_memory" });

    await free();
    const ready = await fetch(`${vigil.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ store: "ok" });
    expect((await authRequest(vigil.url, { cookie: token })).status).toBe(200);
  });
});

describe("Redis down", () => {
  test("the admin API answers 503 JSON (retry), not 500; /auth and /readyz answer 503", async () => {
    const redis = await spawnRedisNode(DATA_NODE_ARGS);
    const lines: Array<Record<string, unknown>> = [];
    const vigil = await startOn(redis, lines);
    try {
      const { token, sessionId } = await signIn(vigil.stores, { id: "dora" }, Date.now());
      await redis.kill();
      const call = (method: string, path: string) =>
        fetch(`${vigil.url}/admin${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
      for (const [method, path] of [
        ["GET", "/users"],
        ["DELETE", `/sessions/${sessionId}`],
        ["DELETE", "/users/dora/sessions"],
        ["POST", "/users/dora/suspend"],
      ] as const) {
        const answer = await call(method, path);
        expect([method, path, answer.status]).toEqual([method, path, 503]);
        expect(answer.headers.get("content-type")).toContain("application/json");
        expect(answer.headers.get("retry-after")).toBe("1");
        expect(await answer.json()).toMatchObject({ error: "store_unavailable" });
      }
      const audit = lines.filter((line) => line.audit === "admin");
      expect(audit.at(-1)).toMatchObject({ status: 503, result: "disconnected" });
      expect((await fetch(`${vigil.url}/readyz`)).status).toBe(503);
      expect((await authRequest(vigil.url, { cookie: token })).status).toBe(503);
    } finally {
      await vigil.close();
      await redis.stop();
    }
  });
});
