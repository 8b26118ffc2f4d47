/**
 * Redis dies while requests flow, then comes back on the same port.
 * - While it is down: not one protected request is allowed (every answer 503, or a denial), and
 *   bypass rules keep answering 200 without it.
 * - Once it is back: decisions recover within 2 s, on the same Vigil (no restart).
 * The restarted server gets the data the old one had (DUMP/RESTORE), as a persistent Redis would.
 * And Redis stalls (CLIENT PAUSE) with the socket open: decisions answer 503 after the command
 * time-out, and the stalled commands' late replies never answer anyone else's request.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import Redis from "ioredis";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

const POLICY = `
rules:
  - { name: public, paths: ["/public/**"], action: bypass }
  - { name: app, hosts: ["app.example.com"], action: authenticated }
default: deny
`;

let redis: RedisHandle;
let vigil: TestVigil;
let cookie: string;

beforeAll(async () => {
  redis = await startRedis({ own: true });
  const high = { session: 1e9, user: 1e9, ip: 1e9 }; // rate counters on, limits out of the way
  vigil = await startVigil({
    policyText: POLICY,
    store: { redisUrl: redis.url, prefix: "outage:" },
    config: { risk: { rate: { soft: high, hard: high } } },
  });
  const { token } = await signIn(vigil.stores, { id: "alice" }, vigil.clock.now);
  cookie = `vigil_session=${token}`;
});
afterAll(async () => {
  await vigil?.close();
  await redis?.stop();
});

function headers(uri: string, sessionCookie: string | undefined): Record<string, string> {
  return {
    "X-Forwarded-Method": "GET",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "app.example.com",
    "X-Forwarded-Uri": uri,
    Accept: "application/json",
    ...(sessionCookie === undefined ? {} : { Cookie: sessionCookie }),
  };
}

async function ask(kind: "protected" | "bypass", sessionCookie = cookie): Promise<number> {
  const response = await fetch(`${vigil.url}/auth`, {
    headers:
      kind === "protected" ? headers("/app/page", sessionCookie) : headers("/public/logo.svg", undefined),
    redirect: "manual",
  });
  await response.arrayBuffer();
  return response.status;
}

/** "stopping": Redis is being killed; a request answered then is judged by no phase. */
type Phase = "up" | "stopping" | "down" | "back";
interface Answer {
  /** The phase when the request was sent. */
  phase: Phase;
  /** The phase when its answer arrived: a request that straddles a change is judged by neither. */
  answeredIn: Phase;
  kind: "protected" | "bypass";
  status: number;
  at: number;
}

/** Copies every key (value and TTL) so a restarted server can be given the same data. */
async function snapshot(url: string): Promise<Array<[string, number, Buffer]>> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  const keys = await client.keys("*");
  const entries: Array<[string, number, Buffer]> = [];
  for (const key of keys) {
    const dump = await client.dumpBuffer(key);
    const ttl = await client.pttl(key);
    if (dump) entries.push([key, Math.max(ttl, 0), dump]);
  }
  client.disconnect();
  return entries;
}

async function restore(url: string, entries: Array<[string, number, Buffer]>): Promise<void> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  for (const [key, ttl, dump] of entries) await client.restore(key, ttl, dump, "REPLACE");
  client.disconnect();
}

test("Redis stopped mid-flow: 0 protected allows, bypass keeps working; back within 2 s, no restart", async () => {
  expect(await ask("protected")).toBe(200);
  const answers: Answer[] = [];
  let phase: Phase = "up";
  let running = true;
  // A steady flow from 8 clients, half protected, half bypass, for the whole test.
  const workers = Array.from({ length: 8 }, async (_, i) => {
    const kind = i % 2 === 0 ? "protected" : "bypass";
    while (running) {
      const at = Date.now();
      const sentIn = phase;
      const status = await ask(kind).catch(() => -1);
      answers.push({ phase: sentIn, answeredIn: phase, kind, status, at });
    }
  });

  await Bun.sleep(300);
  const data = await snapshot(redis.url);
  phase = "stopping"; // an answer from here on may already see the kill: it is not an "up" answer
  await redis.stop(); // SIGKILL, and the process has exited
  phase = "down"; // every request started from here on starts with Redis dead
  await Bun.sleep(1_500);

  phase = "back";
  await redis.restart(); // same port; answers PING when this resolves
  await restore(redis.url, data);
  const backAt = Date.now();
  // Recovery is a bounded poll: the first allow after Redis is back, within 2 s.
  let recoveredAt: number | undefined;
  while (Date.now() - backAt < 2_000) {
    const allowed = answers.find((a) => a.phase === "back" && a.kind === "protected" && a.status === 200);
    if (allowed) {
      recoveredAt = allowed.at;
      break;
    }
    await Bun.sleep(20);
  }
  await Bun.sleep(300);
  running = false;
  await Promise.all(workers);

  // Judge each request by the phase it was both sent and answered in: one sent while Redis was up
  // may have been answered from Redis just before the kill (a correct allow); one sent and answered
  // while Redis was dead was decided without it and must never be an allow.
  const of = (p: Phase, kind: Answer["kind"]) =>
    answers.filter((a) => a.phase === p && a.answeredIn === p && a.kind === kind);
  // Up: every answer an allow.
  expect(of("up", "protected").length).toBeGreaterThan(0);
  expect(new Set(of("up", "protected").map((a) => a.status))).toEqual(new Set([200]));
  // Down: not one protected allow; every protected answer a 503 (or a denial), never a crash.
  const down = of("down", "protected");
  expect(down.length).toBeGreaterThan(0);
  expect(down.filter((a) => a.status === 200)).toEqual([]);
  expect(down.filter((a) => ![503, 401, 403].includes(a.status))).toEqual([]);
  expect(down.filter((a) => a.status === 503).length).toBeGreaterThan(0);
  // Bypass rules never needed Redis.
  const bypass = [...of("up", "bypass"), ...of("down", "bypass"), ...of("back", "bypass")];
  expect(of("down", "bypass").length).toBeGreaterThan(0);
  expect(new Set(bypass.map((a) => a.status))).toEqual(new Set([200]));
  // Back: decisions recovered within 2 s of Redis answering again, and stay recovered.
  expect(recoveredAt).toBeDefined();
  console.log(
    `redis outage: ${down.length} protected answers while down (${down.filter((a) => a.status === 503).length} × 503, 0 × 200), ` +
      `${of("down", "bypass").length} bypass answers while down (all 200), recovered ${recoveredAt! - backAt} ms after Redis came back`,
  );
  // After recovery every answer is still a decision (never a crash), and Vigil is back for good:
  // a run of sequential requests is all allowed.
  expect(of("back", "protected").filter((a) => ![200, 503, 401, 403].includes(a.status))).toEqual([]);
  const after = [];
  for (let i = 0; i < 20; i++) after.push(await ask("protected"));
  expect(after).toEqual(Array(20).fill(200));
}, 20_000);

test("Redis stalls with the socket open: 503 after the command time-out, and late replies answer no one else", async () => {
  const { token } = await signIn(vigil.stores, { id: "bob", status: "suspended" }, vigil.clock.now);
  const bob = `vigil_session=${token}`;
  expect(await ask("protected")).toBe(200);
  expect(await ask("protected", bob)).toBe(403);

  const admin = new Redis(redis.url, { lazyConnect: true });
  await admin.connect();
  try {
    await admin.call("client", "pause", "1500", "ALL");
    const pausedAt = Date.now();
    // Alice (active) and Bob (suspended) ask while Redis holds every command.
    const stalled = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const status = await ask("protected", i % 2 === 0 ? cookie : bob);
        return { status, after: Date.now() - pausedAt };
      }),
    );
    expect(stalled.map((a) => a.status)).toEqual(Array(8).fill(503));
    // The command time-out (500 ms by default) answered them, not the end of the pause.
    expect(Math.max(...stalled.map((a) => a.after))).toBeLessThan(1_300);
    expect(await ask("bypass")).toBe(200);

    // Once the pause ends the stalled commands get their replies; each must stay with its own
    // (timed-out) request. A reply answering a later request would flip allows and denials.
    await Bun.sleep(Math.max(0, 1_600 - (Date.now() - pausedAt)));
    const after = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ask("protected", i % 2 === 0 ? bob : cookie)),
    );
    expect(after).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 403 : 200)));
    console.log(
      `redis stall: ${stalled.length} protected answers during a 1.5 s pause, all 503 within ` +
        `${Math.max(...stalled.map((a) => a.after))} ms; afterwards 20 of 20 answers their own`,
    );
  } finally {
    admin.disconnect();
  }
}, 10_000);
