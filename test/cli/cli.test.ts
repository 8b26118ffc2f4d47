/**
 * The `vigil` CLI against a throwaway Redis, effects checked in the store: each command through
 * src/cli.ts's own runCli (in this process), and the `bun src/cli.ts` process around it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { runBun, runCli, tempFile } from "../helpers/vigil-process.ts";

// A test runs several commands against Redis, and the process test starts Bun itself.
setDefaultTimeout(30_000);

let redis: RedisHandle;
let stores: Stores;
let env: Record<string, string>;

const cli = (...args: string[]) => runCli(args, env);

beforeAll(async () => {
  redis = await startRedis();
  const prefix = uniquePrefix();
  const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await waitForRedis(client, 5000);
  stores = createRedisStores(client, prefix);
  env = {
    REDIS_URL: redis.url,
    VIGIL_CONFIG: tempFile(
      "cli.yaml",
      JSON.stringify({ redis: { prefix }, public_url: "https://auth.example.com" }),
    ),
  };
});

afterAll(async () => {
  await stores?.health.close();
  await redis?.stop();
});

/** A user of one test's own: each test names its own, so the tests pass alone and in any order. */
async function user(id: string): Promise<string> {
  await stores.users.put({ id, displayName: id, status: "active", groups: [], createdAt: Date.now() });
  return id;
}

async function session(userId: string) {
  const now = Date.now();
  return stores.sessions.create(
    { userId, acr: "passkey", amr: [], authAt: now, stepUpAt: 0, ip: "192.0.2.1", country: "DE", uaHash: "" },
    now,
    3600_000,
  );
}

describe("vigil CLI", () => {
  test("the process: `bun src/cli.ts` prints runCli's lines on stdout and stderr and exits with its code", async () => {
    const help = await runBun(["src/cli.ts", "help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toStartWith("usage: vigil <command>");
    expect(help.stderr).toBe("");
    const unknown = await runBun(["src/cli.ts", "frobnicate"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toStartWith('vigil: unknown command "frobnicate"');
    const missing = await runBun(["src/cli.ts", "revoke", "nobody"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("vigil revoke: ");
    // The refused change's audit line reaches the process's stderr too.
    expect(missing.stderr).toMatch(/"audit":"change".*"target":"nobody"/);
  });

  test("help lists the commands; unknown command → exit 2", async () => {
    const help = await cli("help");
    expect(help.code).toBe(0);
    for (const name of [
      "enroll",
      "revoke",
      "suspend",
      "resume",
      "groups",
      "sessions",
      "users",
      "passkeys",
      "check",
    ]) {
      expect(help.stdout).toContain(name);
    }
    const unknown = await cli("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command");
  });

  test("enroll prints a one-time link and creates the user with groups and name", async () => {
    const result = await cli("enroll", "olga", "--groups", "admins,ops", "--name", "Olga K");
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^https:\/\/auth\.example\.com\/enroll\/[A-Za-z0-9_-]{43}$/);
    expect(await stores.users.get("olga")).toMatchObject({
      groups: ["admins", "ops"],
      displayName: "Olga K",
    });
    expect((await cli("enroll")).code).toBe(2);
  });

  test("users, sessions, groups", async () => {
    const uma = await user("uma");
    const s = await session(uma);
    const users = await cli("users");
    expect(users.code).toBe(0);
    expect(users.stdout).toContain(uma);
    const sessions = await cli("sessions", uma);
    expect(sessions.stdout).toContain(s.session.id);
    expect(sessions.stdout).toContain("192.0.2.1");
    const json = JSON.parse((await cli("sessions", uma, "--json")).stdout);
    expect(json[0]).toMatchObject({ id: s.session.id, country: "DE", acr: "passkey" });
    expect((await cli("groups", uma, "x,y")).code).toBe(0);
    expect((await stores.users.get(uma))?.groups).toEqual(["x", "y"]);
    expect((await cli("groups", uma, "")).code).toBe(0);
    expect((await stores.users.get(uma))?.groups).toEqual([]);
  });

  test("revoke one session, then all; unknown user or session → exit 1", async () => {
    const rita = await user("rita");
    const one = await session(rita);
    const two = await session(rita);
    const single = await cli("revoke", rita, "--session", one.session.id);
    expect(single.code).toBe(0);
    expect(await stores.sessions.get(one.session.id)).toBeUndefined();
    expect(await stores.sessions.get(two.session.id)).toBeDefined();
    expect((await cli("revoke", rita, "--session", one.session.id)).code).toBe(1);
    const all = await cli("revoke", rita);
    expect(all.code).toBe(0);
    expect(await stores.sessions.listByUser(rita)).toHaveLength(0);
    const missing = await cli("revoke", "nobody");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nobody");
  });

  test("suspend keeps the sessions (they answer 403); resume ends them, then activates", async () => {
    const sue = await user("sue");
    await session(sue);
    const before = (await stores.sessions.listByUser(sue)).length;
    const suspended = await cli("suspend", sue);
    expect(suspended.code).toBe(0);
    expect(suspended.stdout).toContain("403 user_suspended");
    expect((await stores.users.get(sue))?.status).toBe("suspended");
    expect(await stores.sessions.listByUser(sue)).toHaveLength(before);
    const resumed = await cli("resume", sue);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`ended ${before} session(s)`);
    expect((await stores.users.get(sue))?.status).toBe("active");
    expect(await stores.sessions.listByUser(sue)).toHaveLength(0);
  });

  test("passkeys and delete-passkey", async () => {
    const pia = await user("pia");
    await stores.credentials.add({
      id: "cli-cred-1",
      userId: pia,
      publicKey: "x",
      counter: 0,
      transports: [],
      deviceType: "singleDevice",
      backedUp: false,
      createdAt: Date.now(),
      lastUsedAt: 0,
      label: "passkey",
    });
    expect((await cli("passkeys", pia)).stdout).toContain("cli-cred-1");
    expect((await cli("delete-passkey", pia, "cli-cred-1")).code).toBe(0);
    expect(await stores.credentials.get("cli-cred-1")).toBeUndefined();
    expect((await cli("delete-passkey", pia, "cli-cred-1")).code).toBe(1);
  });

  test("without REDIS_URL, store commands refuse clearly with exit 2", async () => {
    const result = await runCli(["suspend", "olga"], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("REDIS_URL");
  });

  test("check: valid config and policy → 0; a bad policy or config → 2 with the message", async () => {
    const ok = await runCli(["check"], {
      VIGIL_POLICY: tempFile("ok.yaml", "rules:\n  - { name: a, action: authenticated }\n"),
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("policy ok");
    const badPolicy = await runCli(["check"], {
      VIGIL_POLICY: tempFile("bad.yaml", "rules:\n  - { name: a, action: maybe }\n"),
    });
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toContain("policy");
    const badConfig = await runCli(["check"], { VIGIL_CONFIG: tempFile("bad.yaml", "port: nope\n") });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain("port");
  });
});
