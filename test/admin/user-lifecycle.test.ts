/**
 * Offboarding and recovery against a real Redis, through the admin API and the CLI: deleting a
 * user removes their sessions, passkeys, outstanding links and record (refused by /auth at once,
 * the audit trail keeps the deletion); a recovery link is single use, short-lived, for active
 * users only, and makes every earlier link of the user unusable.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { StoredCredential } from "../../src/ports.ts";
import { mintEnrollment } from "../../src/webauthn/enrollment.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";
import { runCli, tempFile } from "../helpers/vigil-process.ts";
import { authRequest, TEST_POLICY } from "./forwarded.ts";

// Each test runs the CLI as real processes, a second or more apiece on a busy machine.
setDefaultTimeout(30_000);

const TOKEN = "admin-token-for-tests-0123456789abcdef";

let redis: RedisHandle;
let vigil: TestVigil;
const prefix = uniquePrefix();

beforeAll(async () => {
  redis = await startRedis();
  vigil = await startVigil({
    config: { admin: { token: TOKEN }, public_url: "https://auth.example.com" },
    policyText: TEST_POLICY,
    store: { redisUrl: redis.url, prefix },
  });
});
afterAll(async () => {
  await vigil?.close();
  await redis?.stop();
});

const admin = (method: string, path: string) =>
  fetch(`${vigil.url}/admin${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });

const passkey = (id: string, userId: string): StoredCredential => ({
  id,
  userId,
  publicKey: "pQECAyYgASFYIA",
  counter: 0,
  transports: [],
  deviceType: "singleDevice",
  backedUp: false,
  createdAt: 1,
  lastUsedAt: 0,
  label: "passkey",
});

/** The enrollment page's status for a link: 200 usable, 410 not. */
const linkStatus = async (url: string) => (await fetch(`${vigil.url}${new URL(url).pathname}`)).status;

describe("delete a user", () => {
  test("API: sessions, passkeys, links and record gone; /auth refuses at once; the audit keeps it", async () => {
    const { token } = await signIn(vigil.stores, { id: "erin", groups: ["staff"] }, vigil.clock.now);
    await vigil.stores.credentials.add(passkey("erin-key-1", "erin"));
    await vigil.stores.credentials.add(passkey("erin-key-2", "erin"));
    const link = await mintEnrollment(
      { stores: vigil.stores, config: vigil.config },
      { userId: "erin" },
      vigil.clock.now,
    );
    expect(await linkStatus(link.url)).toBe(200);
    expect((await authRequest(vigil.url, { cookie: token })).status).toBe(200);

    const deleted = await admin("DELETE", "/users/erin");
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ deleted: "erin", sessions: 1, passkeys: 2 });

    expect((await authRequest(vigil.url, { cookie: token })).status).toBe(401);
    expect(await vigil.stores.users.get("erin")).toBeUndefined();
    expect(await vigil.stores.sessions.listByUser("erin")).toEqual([]);
    expect(await vigil.stores.credentials.listByUser("erin")).toEqual([]);
    expect(await vigil.stores.credentials.get("erin-key-1")).toBeUndefined();
    expect(await linkStatus(link.url)).toBe(410);
    const [record] = await vigil.stores.audit.recent(1);
    expect(record).toMatchObject({ action: "delete_user", target: "erin", result: "ok", via: "api" });
    expect(record?.detail).toBe("sessions 1, passkeys 2");

    // Unknown users: 404, and the refusal is audited too.
    expect((await admin("DELETE", "/users/erin")).status).toBe(404);
    expect((await vigil.stores.audit.recent(1))[0]).toMatchObject({
      action: "delete_user",
      result: "user_not_found",
    });
  });

  test("CLI: delete-user asks for --yes, then deletes", async () => {
    await signIn(vigil.stores, { id: "frank" }, vigil.clock.now);
    const env = {
      REDIS_URL: redis.url,
      VIGIL_CONFIG: tempFile("lifecycle.yaml", JSON.stringify({ redis: { prefix } })),
    };
    const help = await runCli(["help"], env);
    expect(help.stdout).toContain("delete-user");
    expect(help.stdout).toContain("recover");
    const unsure = await runCli(["delete-user", "frank"], env);
    expect(unsure.code).toBe(2);
    expect(await vigil.stores.users.get("frank")).toBeDefined();
    const sure = await runCli(["delete-user", "frank", "--yes"], env);
    expect(sure.code).toBe(0);
    expect(sure.stdout).toContain("deleted frank: 1 session(s), 0 passkey(s)");
    expect(await vigil.stores.users.get("frank")).toBeUndefined();
    expect((await vigil.stores.audit.recent(1))[0]).toMatchObject({ action: "delete_user", via: "cli" });
  }, 30_000);
});

describe("recovery link", () => {
  test("single use, short-lived, and each one revokes the user's earlier links", async () => {
    await signIn(vigil.stores, { id: "gina" }, vigil.clock.now);
    const enrollment = await mintEnrollment(
      { stores: vigil.stores, config: vigil.config },
      { userId: "gina" },
      vigil.clock.now,
    );
    const first = await admin("POST", "/users/gina/recovery");
    expect(first.status).toBe(201);
    const one = (await first.json()) as { url: string; expires_at: string };
    expect(Date.parse(one.expires_at) - vigil.clock.now).toBe(vigil.config.webauthn.recovery_ttl);
    expect(await linkStatus(enrollment.url)).toBe(410);
    expect(await linkStatus(one.url)).toBe(200);

    const second = (await (await admin("POST", "/users/gina/recovery")).json()) as { url: string };
    expect(await linkStatus(one.url)).toBe(410);
    expect(await linkStatus(second.url)).toBe(200);

    // Past its lifetime the link is dead.
    vigil.clock.now += vigil.config.webauthn.recovery_ttl + 1000;
    expect(await linkStatus(second.url)).toBe(410);

    const [record] = await vigil.stores.audit.recent(1);
    expect(record).toMatchObject({ action: "mint_recovery", target: "gina", result: "ok" });
    expect(JSON.stringify(await vigil.stores.audit.recent(10))).not.toContain(new URL(second.url).pathname);
  });

  test("not for a suspended or unknown user", async () => {
    await signIn(vigil.stores, { id: "hank", status: "suspended" }, vigil.clock.now);
    const suspended = await admin("POST", "/users/hank/recovery");
    expect(suspended.status).toBe(409);
    expect((await suspended.json()).error).toBe("user_suspended");
    expect((await admin("POST", "/users/nobody/recovery")).status).toBe(404);
  });

  test("CLI: recover prints the link on stdout only", async () => {
    vigil.clock.now = Date.now(); // the CLI mints on the real clock
    await signIn(vigil.stores, { id: "ivy" }, vigil.clock.now);
    const env = {
      REDIS_URL: redis.url,
      VIGIL_CONFIG: tempFile(
        "lifecycle2.yaml",
        JSON.stringify({ redis: { prefix }, public_url: "https://auth.example.com" }),
      ),
    };
    const result = await runCli(["recover", "ivy"], env);
    expect(result.code).toBe(0);
    const url = result.stdout.trim();
    expect(url).toMatch(/^https:\/\/auth\.example\.com\/enroll\/[A-Za-z0-9_-]{43}$/);
    expect(result.stderr).not.toContain(url);
    expect(await linkStatus(url)).toBe(200);
  }, 30_000);
});
