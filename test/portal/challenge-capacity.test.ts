/**
 * Anonymous sign-in starts each store a challenge. Rotating addresses inside one IPv6 /64 gets no
 * more than max_starts; rotating across many /64s runs into regulation.max_challenges, past which
 * starts answer 503 with Retry-After and write nothing: the keys in Redis stay bounded however
 * many clients ask. Real HTTP, a real redis-server whose keys are counted directly.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { PortalClient } from "./client.ts";
import { type Portal, startPortal } from "./harness.ts";

const MAX_STARTS = 3;
const MAX_CHALLENGES = 8;
const TTL_MS = 60_000;

let redis: RedisHandle;
let client: Redis;
let portal: Portal;
const prefix = uniquePrefix();
let network = 0x200;
/** An address in a /64 no earlier request used. */
const freshNetwork = () => `2001:db8:${(network++).toString(16)}::1`;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url, { lazyConnect: true });
  await client.connect();
  portal = await startPortal({
    store: { redisUrl: redis.url, prefix },
    config: {
      webauthn: { challenge_ttl: "1m" },
      regulation: { max_starts: MAX_STARTS, start_window: "10m", max_challenges: MAX_CHALLENGES },
    },
  });
});
afterAll(async () => {
  await portal?.close();
  client?.disconnect();
  await redis?.stop();
});

/** Keys this Vigil holds in Redis (its own prefix), all kinds. */
async function keyCount(): Promise<number> {
  let count = 0;
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== "0");
  return count;
}

const challengeKeys = async () => (await client.keys(`${prefix}once:webauthn:*`)).length;

/** Each test starts 5 s into fresh challenge and start windows, ahead of real time. */
let windowStart = Math.ceil(Date.now() / (10 * TTL_MS)) * 10 * TTL_MS;
beforeEach(async () => {
  windowStart += 20 * TTL_MS;
  portal.clock.now = windowStart + 5_000;
  await client.eval(
    `for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`,
    0,
    `${prefix}once:*`,
  );
});

const start = (ip: string) => new PortalClient(portal, ip).post("/webauthn/login/options", {});

describe("challenge storage is bounded", () => {
  test("per client network: rotated addresses of one /64 store max_starts challenges, no more", async () => {
    const base = freshNetwork().replace("::1", "");
    const answers: number[] = [];
    for (let i = 1; i <= 20; i++) answers.push((await start(`${base}:0:${i.toString(16)}::${i}`)).status);
    expect(answers).toEqual([...Array(MAX_STARTS).fill(200), ...Array(20 - MAX_STARTS).fill(429)]);
    expect(await challengeKeys()).toBe(MAX_STARTS);
  });

  test("globally: past max_challenges, 503 too_many_ceremonies with Retry-After, and Redis stops growing", async () => {
    const before = await keyCount();
    const logsBefore = portal.logLines.length; // other tests may fill the store too
    for (let i = 0; i < MAX_CHALLENGES; i++) expect((await start(freshNetwork())).status).toBe(200);
    expect(await challengeKeys()).toBe(MAX_CHALLENGES);
    const filled = await keyCount();

    for (let i = 0; i < 40; i++) {
      const refused = await start(freshNetwork());
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ error: "too_many_ceremonies", message: expect.any(String) });
      // 5 s into the 60 s window: the starts of this window stop counting in 55 s.
      expect(refused.headers.get("retry-after")).toBe("55");
      expect(refused.headers.getSetCookie().join()).not.toContain("vigil_ceremony=");
    }
    // Forty more client networks wrote nothing for themselves: no challenge, no per-client
    // counter; only the window's one "already refused" mark.
    expect(await challengeKeys()).toBe(MAX_CHALLENGES);
    expect(await keyCount()).toBe(filled + 1);
    expect(filled - before).toBeLessThanOrEqual(3 * MAX_CHALLENGES);
    // Logged once, as an error an operator sees.
    expect(portal.logLines.slice(logsBefore).filter((l) => l.includes('"challenges_full"'))).toHaveLength(1);

    // A window later the oldest starts still count (their challenges may live); two windows later, none.
    portal.clock.now = windowStart + TTL_MS + 5_000;
    expect((await start(freshNetwork())).status).toBe(503);
    portal.clock.now = windowStart + 2 * TTL_MS + 5_000;
    expect((await start(freshNetwork())).status).toBe(200);
  });

  test("verify calls without a live challenge write nothing, from any number of networks", async () => {
    const before = await keyCount();
    const assertion = {
      id: "eA",
      rawId: "eA",
      type: "public-key",
      response: { clientDataJSON: "", authenticatorData: "", signature: "" },
    };
    const attestation = {
      id: "eA",
      rawId: "eA",
      type: "public-key",
      response: { clientDataJSON: "", attestationObject: "" },
    };
    for (let i = 0; i < 30; i++) {
      const client = new PortalClient(portal, freshNetwork());
      const login = await client.post("/webauthn/login/verify", { response: assertion });
      expect(login.status).toBe(400);
      expect(login.body.error).toBe("challenge_expired");
      const token = `${"t".repeat(41)}${i.toString().padStart(2, "0")}`;
      const enroll = await client.post("/webauthn/register/verify", { token, response: attestation });
      expect(enroll.status).toBe(400);
      expect(enroll.body.error).toBe("challenge_expired");
    }
    expect(await keyCount()).toBe(before);
  });

  test("starts refused by the per-network limit take no room from other clients", async () => {
    const base = freshNetwork().replace("::1", "");
    for (let i = 1; i <= 30; i++) await start(`${base}::${i.toString(16)}`);
    for (let i = 0; i < MAX_CHALLENGES - MAX_STARTS; i++)
      expect((await start(freshNetwork())).status).toBe(200);
    expect((await start(freshNetwork())).status).toBe(503);
  });
});
