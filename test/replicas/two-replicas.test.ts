/**
 * The product's promise: a change of trust takes effect on the very next request, on EVERY replica.
 * Two real Vigil processes (`bun src/main.ts`) share one real, throwaway redis-server; requests
 * alternate between them while the admin API (on one replica) and the CLI change state.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { sessionIdFromToken } from "../../src/session/token.ts";
import { authRequest, TEST_POLICY } from "../admin/forwarded.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { type VigilProcess as Replica, runCli, spawnReplica, tempFile } from "../helpers/vigil-process.ts";

// Vigil processes on a shared Redis: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const ADMIN_TOKEN = "replica-admin-token-0123456789abcdef";
const ISSUER = "https://idp.replicas.example";

let redis: RedisHandle;
let stores: Stores;
let a: Replica;
let b: Replica;
let env: Record<string, string>;
let signingKey: CryptoKey;

async function newSession(userId: string, groups: string[] = []): Promise<string> {
  const now = Date.now();
  if (!(await stores.users.get(userId))) {
    await stores.users.put({ id: userId, displayName: userId, status: "active", groups, createdAt: now });
  }
  const created = await stores.sessions.create(
    {
      userId,
      acr: "passkey",
      amr: ["hwk", "user"],
      authAt: now,
      stepUpAt: 0,
      ip: "203.0.113.7",
      country: "",
      uaHash: "",
    },
    now,
    3600_000,
  );
  return created.token;
}

const admin = (replica: Replica, method: string, path: string, body?: unknown) =>
  fetch(`${replica.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

beforeAll(async () => {
  redis = await startRedis();
  const prefix = uniquePrefix();
  const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await waitForRedis(client, 5000);
  stores = createRedisStores(client, prefix);
  // A user exists before start, so the first-admin bootstrap stays quiet.
  await stores.users.put({
    id: "seed",
    displayName: "seed",
    status: "active",
    groups: [],
    createdAt: Date.now(),
  });

  const pair = await generateKeyPair("ES256", { extractable: true });
  signingKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "r1" };
  const config = tempFile(
    "config.yaml",
    JSON.stringify({
      trusted_proxies: ["127.0.0.1/32", "::1/128"],
      redis: { prefix },
      jwt: {
        issuers: [
          {
            id: "idp",
            issuer: ISSUER,
            audience: "vigil",
            keys: { keys: [jwk] },
            algorithms: ["ES256"],
            subjects: "local",
          },
        ],
      },
    }),
  );
  env = {
    REDIS_URL: redis.url,
    VIGIL_CONFIG: config,
    VIGIL_POLICY: tempFile("policy.yaml", TEST_POLICY),
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
  };
  [a, b] = await Promise.all([spawnReplica(env), spawnReplica(env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await stores?.health.close();
  await redis?.stop();
});

describe("two replicas, one Redis", () => {
  test("revocation through replica A is seen by replica B on the very next request", async () => {
    const token = await newSession("rita");
    for (let i = 0; i < 3; i++) {
      expect((await authRequest(a.url, { cookie: token })).status).toBe(200);
      expect((await authRequest(b.url, { cookie: token })).status).toBe(200);
    }
    const revoked = await admin(a, "DELETE", "/users/rita/sessions");
    expect(await revoked.json()).toEqual({ revoked: 1 });
    const api = await authRequest(b.url, { cookie: token });
    expect(api.status).toBe(401);
    const browser = await authRequest(b.url, { cookie: token, browser: true });
    expect(browser.status).toBe(302);
    expect(browser.headers.get("location")).toContain("/login?rd=");
    expect((await authRequest(a.url, { cookie: token })).status).toBe(401);
  });

  test("one session revoked on B by handle; the user's other session keeps working on A", async () => {
    const first = await newSession("rick");
    const second = await newSession("rick");
    const list = (await (await admin(b, "GET", "/users/rick/sessions")).json()) as {
      sessions: Array<{ id: string }>;
    };
    expect(list.sessions).toHaveLength(2);
    const firstId = sessionIdFromToken(first);
    expect((await admin(b, "DELETE", `/sessions/${firstId}`)).status).toBe(200);
    expect((await authRequest(a.url, { cookie: first })).status).toBe(401);
    expect((await authRequest(a.url, { cookie: second })).status).toBe(200);
  });

  test("suspend → 403 user_suspended on both (cookie and bearer); resume ends the sessions on both", async () => {
    const token = await newSession("sue");
    const bearer = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "r1" })
      .setIssuer(ISSUER)
      .setAudience("vigil")
      .setSubject("sue")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(signingKey);
    expect((await authRequest(a.url, { bearer })).status).toBe(200);
    expect((await authRequest(b.url, { bearer })).status).toBe(200);

    const suspended = await admin(a, "POST", "/users/sue/suspend");
    expect(await suspended.json()).toMatchObject({ user: { status: "suspended" }, sessions: 1 });
    // The suspension is seen at once by both replicas, for the session and for a token both have
    // cached, and the answer names the user-level cause.
    for (const replica of [b, a]) {
      for (const credential of [{ bearer }, { cookie: token }]) {
        const refused = await authRequest(replica.url, credential);
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({ reason: "user_suspended" });
      }
    }
    const late = await newSession("sue");
    for (const replica of [a, b]) {
      const refused = await authRequest(replica.url, { cookie: late });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ reason: "user_suspended" });
    }

    const resumed = await admin(b, "POST", "/users/sue/resume");
    expect(await resumed.json()).toMatchObject({ user: { status: "active" }, revoked: 2 });
    // Neither session comes back to life on either replica; the token (re-checked live) passes.
    for (const replica of [a, b]) {
      for (const cookie of [token, late]) {
        const ended = await authRequest(replica.url, { cookie });
        expect(ended.status).toBe(401);
        expect(await ended.json()).toMatchObject({ reason: "session_unknown" });
      }
    }
    expect((await authRequest(b.url, { bearer })).status).toBe(200);
    expect((await authRequest(a.url, { cookie: await newSession("sue") })).status).toBe(200);
  });

  test("groups change on one replica flips a group rule on the other, both ways", async () => {
    const token = await newSession("gwen", []);
    const admins = { cookie: token, uri: "/admin/dashboard" };
    expect((await authRequest(a.url, admins)).status).toBe(403);
    expect((await authRequest(b.url, admins)).status).toBe(403);

    expect((await admin(a, "PUT", "/users/gwen/groups", { groups: ["admins"] })).status).toBe(200);
    const allowed = await authRequest(b.url, admins);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-auth-groups")).toBe("admins");

    expect((await admin(b, "PUT", "/users/gwen/groups", { groups: [] })).status).toBe(200);
    const denied = await authRequest(a.url, admins);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ reason: "group_required" });
  });

  test("the CLI changes the same shared state: both replicas see it at once", async () => {
    const token = await newSession("cleo");
    expect((await authRequest(a.url, { cookie: token })).status).toBe(200);
    const result = await runCli(["revoke", "cleo"], { REDIS_URL: redis.url, VIGIL_CONFIG: env.VIGIL_CONFIG });
    expect(result.code).toBe(0);
    expect((await authRequest(b.url, { cookie: token })).status).toBe(401);
    expect((await authRequest(a.url, { cookie: token })).status).toBe(401);
  });

  test("neither replica logged a cookie, a bearer token or the admin token", () => {
    const output = a.output() + b.output();
    expect(output).not.toContain(ADMIN_TOKEN);
    expect(output).not.toContain("vigil_session=");
  });
});
