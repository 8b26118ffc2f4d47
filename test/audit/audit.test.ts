/**
 * The audit trail: both adapters keep it bounded and newest first; every admin change made
 * through the API or the CLI writes exactly one record (who, what, target, when, from where,
 * result) to the log and to the shared stream, refused changes included, reads none; no record or
 * line ever holds an enrollment link.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Writable } from "node:stream";
import { createMemoryStores } from "../../src/adapters/memory/index.ts";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import { createLogger } from "../../src/observe/logger.ts";
import type { AuditRecord, Stores } from "../../src/ports.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";
import { runCli, tempFile } from "../helpers/vigil-process.ts";

// Tests write hundreds of records to a real Redis and start an in-process Vigil.
setDefaultTimeout(30_000);

const TOKEN = "admin-token-for-tests-0123456789abcdef";

let redis: RedisHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const record = (n: number): AuditRecord => ({
  at: 1_700_000_000_000 + n,
  actor: "admin-token",
  via: "api",
  action: "suspend",
  target: `user-${n}`,
  ip: "192.0.2.7",
  result: "ok",
});

describe("audit log adapters", () => {
  const redisStores = async (max: number) => {
    const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
    await waitForRedis(client, 5000);
    return createRedisStores(client, uniquePrefix(), { auditMaxRecords: max });
  };

  for (const kind of ["memory", "redis"] as const) {
    test(`${kind}: newest first, fields cleaned, bounded`, async () => {
      const stores: Stores =
        kind === "memory" ? createMemoryStores({ auditMaxRecords: 50 }) : await redisStores(50);
      await stores.audit.append({ ...record(0), target: "evil\nline", detail: "x".repeat(1000) });
      for (let n = 1; n <= 400; n++) await stores.audit.append(record(n));
      const recent = await stores.audit.recent(3);
      expect(recent.map((r) => r.target)).toEqual(["user-400", "user-399", "user-398"]);
      expect(recent[0]).toEqual(record(400));
      const all = await stores.audit.recent(10_000);
      // MAXLEN ~ trims whole stream nodes: at least the bound, far fewer than were written.
      expect(all.length).toBeGreaterThanOrEqual(50);
      expect(all.length).toBeLessThan(300);
      await stores.health.close();
    });
  }

  test("a record's fields are single-line and bounded", async () => {
    const stores = await redisStores(100);
    await stores.audit.append({ ...record(0), target: "evil\nline", detail: "x".repeat(1000) });
    const [stored] = await stores.audit.recent(1);
    expect(stored?.target).toBe("evil?line");
    expect(stored?.detail?.length).toBe(256);
    await stores.health.close();
  });
});

describe("admin changes are audited", () => {
  let vigil: TestVigil;
  const prefix = uniquePrefix();
  const lines: string[] = [];
  const auditLines = () => lines.map((line) => JSON.parse(line)).filter((entry) => entry.audit === "change");

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...chunk.toString().split("\n").filter(Boolean));
        done();
      },
    });
    vigil = await startVigil({
      config: { admin: { token: TOKEN } },
      store: { redisUrl: redis.url, prefix },
      deps: { logger: createLogger("info", sink) },
    });
  });
  afterAll(async () => {
    await vigil?.close();
  });

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${vigil.url}/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  test("API: one record per change (ok or refused), none for reads, never the link", async () => {
    await signIn(vigil.stores, { id: "bob", groups: ["staff"] }, Date.now());
    vigil.clock.now = 1_790_000_000_000;
    expect((await admin("GET", "/users")).status).toBe(200);
    expect((await admin("GET", "/users/bob/sessions")).status).toBe(200);
    // The trail is shared with the CLI test: this test's records are the API's.
    const apiRecords = async () => (await vigil.stores.audit.recent(20)).filter((r) => r.via === "api");
    expect(await apiRecords()).toEqual([]);

    expect((await admin("POST", "/users/bob/suspend")).status).toBe(200);
    expect((await admin("PUT", "/users/bob/groups", { groups: ["staff", "finance"] })).status).toBe(200);
    expect((await admin("POST", "/users/nobody/resume")).status).toBe(404);
    const minted = await admin("POST", "/users/carol/enrollments", { groups: ["staff"] });
    expect(minted.status).toBe(201);
    const { url } = (await minted.json()) as { url: string };

    const records = await apiRecords();
    expect(records.map((r) => [r.action, r.target, r.result])).toEqual([
      ["mint_enrollment", "carol", "ok"],
      ["resume", "nobody", "user_not_found"],
      ["set_groups", "bob", "ok"],
      ["suspend", "bob", "ok"],
    ]);
    for (const r of records) {
      expect(r).toMatchObject({ actor: "admin-token", via: "api", ip: "127.0.0.1" });
      expect(r.at).toBe(vigil.clock.now);
    }
    expect(records[2]?.detail).toBe("groups staff,finance");
    expect(records[3]?.detail).toBe("sessions 1");
    // The same four in the log, and the link in neither.
    expect(auditLines().map((l) => l.action)).toEqual(["suspend", "set_groups", "resume", "mint_enrollment"]);
    const token = url.slice(url.lastIndexOf("/") + 1);
    expect(JSON.stringify(records)).not.toContain(token);
    expect(lines.join("\n")).not.toContain(token);
  });

  test("CLI: its changes land in the same trail, as the operating-system user, from local", async () => {
    await signIn(vigil.stores, { id: "dave" }, Date.now());
    const env = {
      REDIS_URL: redis.url,
      VIGIL_CONFIG: tempFile("audit-cli.yaml", JSON.stringify({ redis: { prefix } })),
    };
    const suspended = await runCli(["suspend", "dave"], env);
    expect(suspended.code).toBe(0);
    const refused = await runCli(["resume", "nobody"], env);
    expect(refused.code).toBe(1);

    const [last, first] = await vigil.stores.audit.recent(2);
    expect(first).toMatchObject({ action: "suspend", target: "dave", result: "ok", via: "cli", ip: "local" });
    expect(first?.actor).toMatch(/^cli:.+@.+$/);
    expect(last).toMatchObject({ action: "resume", target: "nobody", result: "user_not_found", via: "cli" });
    // The log line goes to stderr, leaving stdout to the command's answer.
    const line = JSON.parse(suspended.stderr.trim().split("\n").at(-1) ?? "{}");
    expect(line).toMatchObject({ audit: "change", action: "suspend", target: "dave", via: "cli" });
    expect(suspended.stdout).toContain("suspended dave");
  }, 30_000);
});
