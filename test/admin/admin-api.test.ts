/**
 * The admin API against a real Redis over real HTTP: authentication (none, wrong, unset → 404),
 * every verb, 404s and 400s, metrics, and audit lines that never hold the token or a link.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { createLogger } from "../../src/observe/logger.ts";
import type { StoredCredential } from "../../src/ports.ts";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";
import { authRequest, TEST_POLICY } from "./forwarded.ts";

const TOKEN = "admin-token-for-tests-0123456789abcdef";

let redis: RedisHandle;
let vigil: TestVigil;
const logLines: string[] = [];

const admin = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
  fetch(`${vigil.url}/admin${path}`, {
    ...init,
    headers: {
      ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });

const credential = (id: string, userId: string): StoredCredential => ({
  id,
  userId,
  publicKey: "pQECAyYgASFYIA",
  counter: 3,
  transports: ["internal"],
  deviceType: "multiDevice",
  backedUp: true,
  createdAt: 1_700_000_000_000,
  lastUsedAt: 0,
  label: "passkey",
});

beforeAll(async () => {
  redis = await startRedis();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  vigil = await startVigil({
    config: { admin: { token: TOKEN } },
    policyText: TEST_POLICY,
    store: { redisUrl: redis.url },
    deps: { logger: createLogger("info", sink) },
  });
});

afterAll(async () => {
  await vigil?.close();
  await redis?.stop();
});

describe("admin authentication", () => {
  test("no token → 401 JSON with WWW-Authenticate", async () => {
    const response = await admin("/users", {}, null);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    expect(await response.json()).toMatchObject({ error: "unauthorized" });
  });

  test("wrong token, or a prefix of the right one → 401", async () => {
    expect((await admin("/users", {}, "wrong-token-wrong-token-wrong")).status).toBe(401);
    expect((await admin("/users", {}, TOKEN.slice(0, -1))).status).toBe(401);
    expect((await admin("/users", {}, `${TOKEN}x`)).status).toBe(401);
    const basic = await fetch(`${vigil.url}/admin/users`, { headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.status).toBe(401);
  });

  test("admin.token unset → every /admin path answers 404, even with a token", async () => {
    const other = await startVigil({ store: "memory", policyText: TEST_POLICY });
    try {
      for (const path of ["/admin/users", "/admin/users/x/sessions", "/admin/anything"]) {
        const response = await fetch(`${other.url}${path}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        expect(response.status).toBe(404);
      }
    } finally {
      await other.close();
    }
  });

  test("the right token is accepted", async () => {
    const response = await admin("/users");
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });
});

describe("admin verbs", () => {
  test("users: list and get; unknown user → 404", async () => {
    const now = Date.now();
    await signIn(vigil.stores, { id: "ann", groups: ["staff"] }, now);
    await vigil.stores.credentials.add(credential("cred-ann-1", "ann"));
    const list = (await (await admin("/users")).json()) as { users: Array<{ id: string }> };
    expect(list.users.map((u) => u.id)).toContain("ann");
    const one = await admin("/users/ann");
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({
      user: { id: "ann", status: "active", groups: ["staff"], sessions: 1, passkeys: 1 },
    });
    const missing = await admin("/users/nobody");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: "user_not_found", message: expect.any(String) });
  });

  test("sessions: list shows handle, times, IP, country, acr, amr, step-up", async () => {
    const now = Date.now();
    const { sessionId } = await signIn(vigil.stores, { id: "bob" }, now, {
      ip: "198.51.100.4",
      country: "FR",
      acr: "phr",
      stepUpAt: now,
    });
    const response = await admin("/users/bob/sessions");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { sessions: Array<Record<string, unknown>> };
    expect(body.sessions).toHaveLength(1);
    expect(body.sessions[0]).toMatchObject({
      id: sessionId,
      user: "bob",
      ip: "198.51.100.4",
      country: "FR",
      acr: "phr",
      amr: ["hwk", "user"],
      created_at: new Date(now).toISOString(),
      step_up_at: new Date(now).toISOString(),
    });
    expect(body.sessions[0]?.last_seen_at).toEqual(expect.any(String));
    expect((await admin("/users/nobody/sessions")).status).toBe(404);
  });

  test("revoke one session: next /auth is refused; unknown session → 404", async () => {
    const now = Date.now();
    const { token, sessionId } = await signIn(vigil.stores, { id: "cat" }, now);
    const keep = await signIn(vigil.stores, { id: "cat" }, now);
    expect((await authRequest(vigil.url, { cookie: token })).status).toBe(200);
    const response = await admin(`/sessions/${sessionId}`, { method: "DELETE" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ revoked: 1, user: "cat" });
    expect((await authRequest(vigil.url, { cookie: token })).status).toBe(401);
    expect((await authRequest(vigil.url, { cookie: keep.token })).status).toBe(200);
    expect((await admin(`/sessions/${sessionId}`, { method: "DELETE" })).status).toBe(404);
    expect((await admin(`/sessions/${"0".repeat(64)}`, { method: "DELETE" })).status).toBe(404);
  });

  test("revoke all of a user's sessions; metrics count them", async () => {
    const now = Date.now();
    const a = await signIn(vigil.stores, { id: "dan" }, now);
    const b = await signIn(vigil.stores, { id: "dan" }, now);
    const before = await revokedCount("admin");
    const response = await admin("/users/dan/sessions", { method: "DELETE" });
    expect(await response.json()).toEqual({ revoked: 2 });
    expect((await authRequest(vigil.url, { cookie: a.token })).status).toBe(401);
    expect((await authRequest(vigil.url, { cookie: b.token })).status).toBe(401);
    expect(await revokedCount("admin")).toBe(before + 2);
    expect((await admin("/users/nobody/sessions", { method: "DELETE" })).status).toBe(404);
  });

  test("suspend answers 403 user_suspended on the user's own session (logged with the reason); resume ends every session", async () => {
    const now = Date.now();
    const { token } = await signIn(vigil.stores, { id: "eve" }, now);
    const before = await revokedCount("suspend");
    const response = await admin("/users/eve/suspend", { method: "POST" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ user: { id: "eve", status: "suspended" }, sessions: 1 });
    // The session is kept, so the answer names the user-level cause, not an unknown session.
    const suspended = await authRequest(vigil.url, { cookie: token });
    expect(suspended.status).toBe(403);
    expect(await suspended.json()).toMatchObject({ reason: "user_suspended" });
    const logged = logLines
      .map((line) => JSON.parse(line) as { decision?: string; user?: string; reasons?: unknown })
      .filter((line) => line.decision !== undefined && line.user === "eve")
      .at(-1);
    expect(JSON.stringify(logged)).toContain("user_suspended");
    // A session created during the suspension (e.g. a race) is refused the same way.
    const late = await vigil.stores.sessions.create(
      { userId: "eve", acr: "passkey", amr: [], authAt: now, stepUpAt: 0, ip: "", country: "", uaHash: "" },
      now,
      3600_000,
    );
    const refused = await authRequest(vigil.url, { cookie: late.token });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ reason: "user_suspended" });
    // Resume ends both before the user is active again: neither comes back to life.
    const resumed = await admin("/users/eve/resume", { method: "POST" });
    expect(await resumed.json()).toMatchObject({ user: { status: "active" }, revoked: 2 });
    expect(await revokedCount("suspend")).toBe(before + 2);
    for (const old of [token, late.token]) {
      const ended = await authRequest(vigil.url, { cookie: old });
      expect(ended.status).toBe(401);
      expect(await ended.json()).toMatchObject({ reason: "session_unknown" });
    }
    // A fresh sign-in works; resuming an active user ends nothing.
    const again = await signIn(vigil.stores, { id: "eve" }, Date.now());
    expect((await authRequest(vigil.url, { cookie: again.token })).status).toBe(200);
    expect(await (await admin("/users/eve/resume", { method: "POST" })).json()).toMatchObject({ revoked: 0 });
    expect((await authRequest(vigil.url, { cookie: again.token })).status).toBe(200);
    expect((await admin("/users/nobody/suspend", { method: "POST" })).status).toBe(404);
    expect((await admin("/users/nobody/resume", { method: "POST" })).status).toBe(404);
  });

  test("groups: set, re-evaluated on the next request; bad bodies → 400", async () => {
    const now = Date.now();
    const { token } = await signIn(vigil.stores, { id: "fay", groups: [] }, now);
    expect((await authRequest(vigil.url, { cookie: token, uri: "/admin/panel" })).status).toBe(403);
    const set = await admin("/users/fay/groups", {
      method: "PUT",
      body: JSON.stringify({ groups: ["admins", "ops"] }),
    });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ user: { groups: ["admins", "ops"] } });
    expect((await authRequest(vigil.url, { cookie: token, uri: "/admin/panel" })).status).toBe(200);

    for (const body of [
      "not json",
      "{}",
      '{"groups":"admins"}',
      '{"groups":["a b"]}',
      '{"groups":["a,b"]}',
      '{"groups":[],"x":1}',
    ]) {
      const response = await admin("/users/fay/groups", { method: "PUT", body });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    }
    expect((await admin("/users/nobody/groups", { method: "PUT", body: '{"groups":[]}' })).status).toBe(404);
  });

  test("passkeys: list and delete; another user's passkey or an unknown one → 404", async () => {
    await signIn(vigil.stores, { id: "gus" }, Date.now());
    await vigil.stores.credentials.add(credential("cred-gus-1", "gus"));
    await vigil.stores.credentials.add(credential("cred-gus-2", "gus"));
    const list = (await (await admin("/users/gus/credentials")).json()) as {
      credentials: Array<Record<string, unknown>>;
    };
    expect(list.credentials.map((c) => c.id).sort()).toEqual(["cred-gus-1", "cred-gus-2"]);
    expect(list.credentials[0]).toMatchObject({
      label: "passkey",
      device_type: "multiDevice",
      backed_up: true,
    });
    expect(list.credentials[0]).not.toHaveProperty("publicKey");
    expect((await admin("/users/gus/credentials/cred-gus-1", { method: "DELETE" })).status).toBe(200);
    expect(await vigil.stores.credentials.get("cred-gus-1")).toBeUndefined();
    expect((await admin("/users/gus/credentials/cred-gus-1", { method: "DELETE" })).status).toBe(404);
    expect((await admin("/users/ann/credentials/cred-gus-2", { method: "DELETE" })).status).toBe(404);
    expect(await vigil.stores.credentials.get("cred-gus-2")).toBeDefined();
    expect((await admin("/users/nobody/credentials")).status).toBe(404);
  });

  test("enrollments: 201 with a one-time link; creates the user; bad body → 400", async () => {
    const response = await admin("/users/hal/enrollments", {
      method: "POST",
      body: JSON.stringify({ groups: ["admins"], displayName: "Hal" }),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as {
      url: string;
      expires_at: string;
      user: Record<string, unknown>;
    };
    expect(body.url).toMatch(/^http:\/\/auth\.localhost:8080\/enroll\/[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now());
    expect(body.user).toMatchObject({ id: "hal", groups: ["admins"], display_name: "Hal" });
    const noBody = await admin("/users/ivy/enrollments", { method: "POST" });
    expect(noBody.status).toBe(201);
    expect((await admin("/users/ivy/enrollments", { method: "POST", body: '{"groups":"x"}' })).status).toBe(
      400,
    );
    expect((await admin("/users/ivy/enrollments", { method: "POST", body: '{"role":"x"}' })).status).toBe(
      400,
    );

    const token = body.url.split("/").pop()!;
    const joined = logLines.join("\n");
    expect(joined).toContain('"action":"mint_enrollment"');
    expect(joined).not.toContain(token);
  });

  test("unknown admin endpoints → 404 JSON", async () => {
    const response = await admin("/nothing-here");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "not_found" });
  });
});

describe("audit log", () => {
  test("one line per call with action, target and result; never the token", async () => {
    // The calls it audits are its own, so the test passes alone and in any order.
    const now = Date.now();
    await signIn(vigil.stores, { id: "audit-suspended" }, now);
    expect((await admin("/users/audit-suspended/suspend", { method: "POST" })).status).toBe(200);
    expect((await admin("/users/audit-nobody")).status).toBe(404);
    const { sessionId } = await signIn(vigil.stores, { id: "audit-revoked" }, now);
    expect((await admin(`/sessions/${sessionId}`, { method: "DELETE" })).status).toBe(200);
    expect((await admin("/users/audit-anyone", {}, null)).status).toBe(401);

    const joined = logLines.join("\n");
    expect(joined).not.toContain(TOKEN);
    const audits = logLines.map((line) => JSON.parse(line)).filter((line) => line.audit === "admin");
    expect(
      audits.some((a) => a.action === "suspend" && a.user === "audit-suspended" && a.result === "ok"),
    ).toBe(true);
    expect(
      audits.some(
        (a) => a.action === "get_user" && a.user === "audit-nobody" && a.result === "user_not_found",
      ),
    ).toBe(true);
    expect(
      audits.some(
        (a) => a.action === "revoke_session" && a.user === "audit-revoked" && typeof a.session === "string",
      ),
    ).toBe(true);
    expect(audits.some((a) => a.result === "unauthorized")).toBe(true);
  });
});

async function revokedCount(cause: string): Promise<number> {
  const metric = await vigil.deps.metrics.sessionsRevoked.get();
  return metric.values.find((v) => v.labels.cause === cause)?.value ?? 0;
}
