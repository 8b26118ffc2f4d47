/**
 * The per-IP limit on ceremony starts (regulation.max_starts per start_window): each options
 * endpoint stores a challenge, so past the limit it answers 429 with Retry-After and stores
 * nothing. Real HTTP and real Redis; the portal clock is set to known points of a window so
 * Retry-After is exact. Every challenge written is seen through a spy on the OneTimeStore.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { sessionIdFromToken } from "../../src/session/token.ts";
import { challengeKey } from "../../src/webauthn/challenge.ts";
import { hashEnrollmentToken, mintEnrollment } from "../../src/webauthn/enrollment.ts";
import { type Answer, PortalClient } from "./client.ts";
import { type Portal, startPortal } from "./harness.ts";
import { SoftAuthenticator } from "./soft-authenticator.ts";

const MAX_STARTS = 3;
const WINDOW_MS = 10 * 60_000;

let portal: Portal;
let nextIp = 10;
const freshIp = () => `203.0.113.${nextIp++}`;
/** Keys the portal wrote to the OneTimeStore (challenges, enrollment links). */
const puts: string[] = [];

beforeAll(async () => {
  portal = await startPortal({
    config: {
      regulation: {
        max_starts: MAX_STARTS,
        start_window: "10m",
        max_retries: 2,
        find_time: "10m",
        ban_time: "2m",
      },
    },
  });
  const { oneTime } = portal.stores;
  const put = oneTime.put.bind(oneTime);
  oneTime.put = async (key, value, ttlMs) => {
    puts.push(key);
    await put(key, value, ttlMs);
  };
});
afterAll(async () => {
  await portal?.close();
});

/** Each test starts 15 s into a fresh start window, ahead of real time. */
let windowStart = Math.ceil(Date.now() / WINDOW_MS) * WINDOW_MS;
beforeEach(() => {
  windowStart += WINDOW_MS;
  portal.clock.now = windowStart + 15_000;
  puts.length = 0;
});

const challengePuts = () => puts.filter((key) => key.startsWith("webauthn:"));

function expectStartLimited(answer: Answer, retryAfterSec: number) {
  expect(answer.status).toBe(429);
  expect(answer.body).toEqual({ error: "too_many_requests", message: expect.any(String) });
  expect(answer.headers.get("retry-after")).toBe(String(retryAfterSec));
  expect(answer.headers.get("cache-control")).toContain("no-store");
  expect(answer.headers.getSetCookie().join()).not.toContain("vigil_ceremony=");
}

async function metric(result: string): Promise<number> {
  const text = await (await fetch(`${portal.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`vigil_stepup_results_total{result="${result}"}`));
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

async function mint(userId: string): Promise<string> {
  const { token } = await mintEnrollment(
    { stores: portal.stores, config: portal.config },
    { userId, groups: ["staff"] },
    portal.clock.now ?? Date.now(),
  );
  return token;
}

describe("sign-in starts", () => {
  test("max_starts allowed, the next one 429 with Retry-After and no challenge; other IPs unaffected; the next window allows again", async () => {
    const client = new PortalClient(portal, freshIp());
    for (let i = 0; i < MAX_STARTS; i++) {
      const ok = await client.post("/webauthn/login/options", {});
      expect(ok.status).toBe(200);
      const ceremony = client.cookie("vigil_ceremony") as string;
      expect(await portal.stores.oneTime.peek(challengeKey("login", ceremony))).toBeDefined();
    }
    expect(challengePuts()).toHaveLength(MAX_STARTS);
    const limitedBefore = await metric("signin_start_limited");

    // 15 s into a 10 min window: 585 s until it ends.
    const limited = await client.post("/webauthn/login/options", {});
    expectStartLimited(limited, 585);
    expect(challengePuts()).toHaveLength(MAX_STARTS);
    expect(await metric("signin_start_limited")).toBe(limitedBefore + 1);
    // Still limited later in the window; Retry-After never drops below 1 s.
    portal.clock.now = windowStart + WINDOW_MS - 100;
    expectStartLimited(await client.post("/webauthn/login/options", {}), 1);
    expect(challengePuts()).toHaveLength(MAX_STARTS);
    // Logged once per window, not once per refused request.
    const logged = portal.logLines.filter((l) => l.includes("signin_start_limited") && l.includes(client.ip));
    expect(logged).toHaveLength(1);

    // Another address (X-Forwarded-For from the trusted loopback proxy) is unaffected.
    const other = new PortalClient(portal, freshIp());
    expect((await other.post("/webauthn/login/options", {})).status).toBe(200);
    expect(challengePuts()).toHaveLength(MAX_STARTS + 1);

    // Once the window has passed, starts are allowed again.
    portal.clock.now = windowStart + WINDOW_MS;
    for (let i = 0; i < MAX_STARTS; i++) {
      expect((await client.post("/webauthn/login/options", {})).status).toBe(200);
    }
    expectStartLimited(await client.post("/webauthn/login/options", {}), 600);
  });

  test("cross-origin and banned requests are not counted as starts", async () => {
    const client = new PortalClient(portal, freshIp());
    for (let i = 0; i < 5; i++) {
      const evil = await client.post("/webauthn/login/options", {}, { origin: "http://evil.localhost" });
      expect(evil.status).toBe(403);
    }
    // Two failed sign-ins (a started ceremony, an unknown passkey) ban the address for ban_time (2 min)…
    const unknownPasskey = {
      id: "eA",
      rawId: "eA",
      type: "public-key",
      response: { clientDataJSON: "", authenticatorData: "", signature: "" },
    };
    for (let i = 0; i < 2; i++) {
      expect((await client.post("/webauthn/login/options", {})).status).toBe(200);
      const refused = await client.post("/webauthn/login/verify", { response: unknownPasskey });
      expect(refused.body.error).toBe(i === 0 ? "unknown_credential" : "too_many_failures");
    }
    const started = challengePuts().length;
    for (let i = 0; i < 5; i++) {
      const banned = await client.post("/webauthn/login/options", {});
      expect(banned.status).toBe(429);
      expect(banned.body.error).toBe("too_many_failures");
    }
    expect(challengePuts()).toHaveLength(started);
    // …after which, still in the same start window, the address has the rest of its allowance:
    // the two ceremonies counted, the banned and cross-origin requests did not.
    portal.clock.now = windowStart + 15_000 + 121_000;
    for (let i = 0; i < MAX_STARTS - 2; i++) {
      expect((await client.post("/webauthn/login/options", {})).status).toBe(200);
    }
    expectStartLimited(await client.post("/webauthn/login/options", {}), 600 - 136);
  });
});

describe("step-up and enrollment starts", () => {
  test("step-up options: max_starts allowed, then 429 and the session's challenge is not replaced", async () => {
    const soft = new SoftAuthenticator(portal.origin);
    const client = new PortalClient(portal, freshIp());
    const token = await mint("sl-uma");
    const options = await client.post("/webauthn/register/options", { token });
    const { response } = soft.register(options.body as never);
    expect((await client.post("/webauthn/register/verify", { token, response })).status).toBe(200);

    client.ip = freshIp(); // a fresh allowance: the enrollment used one start of the first address
    const key = challengeKey("stepup", sessionIdFromToken(client.cookie("vigil_session") as string));
    for (let i = 0; i < MAX_STARTS; i++) {
      expect((await client.post("/webauthn/stepup/options", {})).status).toBe(200);
    }
    await portal.stores.oneTime.take(key);
    const before = challengePuts().length;
    const limitedBefore = await metric("start_limited");
    expectStartLimited(await client.post("/webauthn/stepup/options", {}), 585);
    expect(await portal.stores.oneTime.peek(key)).toBeUndefined();
    expect(challengePuts()).toHaveLength(before);
    expect(await metric("start_limited")).toBe(limitedBefore + 1);
  });

  test("registration options: max_starts allowed, then 429 and no challenge for the link", async () => {
    const client = new PortalClient(portal, freshIp());
    const token = await mint("sl-erin");
    const key = challengeKey("register", hashEnrollmentToken(token));
    for (let i = 0; i < MAX_STARTS; i++) {
      expect((await client.post("/webauthn/register/options", { token })).status).toBe(200);
    }
    await portal.stores.oneTime.take(key);
    const limitedBefore = await metric("enroll_start_limited");
    expectStartLimited(await client.post("/webauthn/register/options", { token }), 585);
    expect(await portal.stores.oneTime.peek(key)).toBeUndefined();
    expect(challengePuts()).toHaveLength(MAX_STARTS);
    expect(await metric("enroll_start_limited")).toBe(limitedBefore + 1);
    // The link itself is untouched, and usable from another address.
    const other = new PortalClient(portal, freshIp());
    expect((await other.post("/webauthn/register/options", { token })).status).toBe(200);
  });
});
