/**
 * Two real Vigil processes on a real 3-master Redis Cluster (REDIS_URL=redis+cluster://…): a
 * revocation or suspension through one replica holds on the other at the very next request, and
 * a plain redis:// URL to a cluster node is refused at start.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Cluster } from "ioredis";
import { createClusterClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { authRequest, TEST_POLICY } from "../admin/forwarded.ts";
import { type RedisClusterHandle, startRedisCluster } from "../helpers/redis-cluster.ts";
import { uniquePrefix } from "../helpers/redis-server.ts";
import { type VigilProcess as Replica, runBun, spawnReplica, tempFile } from "../helpers/vigil-process.ts";

// A Redis Cluster and Vigil processes: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const ADMIN_TOKEN = "cluster-admin-token-0123456789abcdef";

let cluster: RedisClusterHandle;
let client: Cluster;
let stores: Stores;
let a: Replica;
let b: Replica;
let config: string;

async function newSession(userId: string): Promise<string> {
  const now = Date.now();
  if (!(await stores.users.get(userId))) {
    await stores.users.put({ id: userId, displayName: userId, status: "active", groups: [], createdAt: now });
  }
  const input = {
    userId,
    acr: "passkey",
    amr: ["hwk"],
    authAt: now,
    stepUpAt: 0,
    ip: "203.0.113.7",
    country: "",
    uaHash: "",
  };
  return (await stores.sessions.create(input, now, 3_600_000)).token;
}

const admin = (replica: Replica, method: string, path: string) =>
  fetch(`${replica.url}/admin${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

beforeAll(async () => {
  cluster = await startRedisCluster();
  client = createClusterClient(cluster.url, { commandTimeoutMs: 1_000 });
  await waitForRedis(client, 10_000);
  const prefix = uniquePrefix();
  stores = createRedisStores(client, prefix);
  // A user exists before start, so the first-admin bootstrap stays quiet.
  await stores.users.put({
    id: "seed",
    displayName: "seed",
    status: "active",
    groups: [],
    createdAt: Date.now(),
  });
  config = tempFile(
    "cluster.yaml",
    JSON.stringify({ trusted_proxies: ["127.0.0.1/32", "::1/128"], redis: { prefix } }),
  );
  const env = {
    REDIS_URL: cluster.url,
    VIGIL_CONFIG: config,
    VIGIL_POLICY: tempFile("policy.yaml", TEST_POLICY),
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
  };
  [a, b] = await Promise.all([spawnReplica(env), spawnReplica(env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  client?.disconnect();
  await cluster?.stop();
});

describe("two replicas, one Redis Cluster", () => {
  test("revocation through replica A is seen by replica B on the very next request", async () => {
    const tokens = await Promise.all(["rita", "ravi", "rosa", "remy"].map(newSession));
    for (const token of tokens) {
      expect((await authRequest(a.url, { cookie: token })).status).toBe(200);
      expect((await authRequest(b.url, { cookie: token })).status).toBe(200);
    }
    for (const [i, user] of ["rita", "ravi", "rosa", "remy"].entries()) {
      expect(await (await admin(a, "DELETE", `/users/${user}/sessions`)).json()).toEqual({ revoked: 1 });
      expect((await authRequest(b.url, { cookie: tokens[i] })).status).toBe(401);
      expect((await authRequest(a.url, { cookie: tokens[i] })).status).toBe(401);
    }
  });

  test("suspend on B holds on A at once (403 user_suspended); resume ends the old sessions", async () => {
    const token = await newSession("sam");
    expect((await authRequest(a.url, { cookie: token })).status).toBe(200);
    expect(await (await admin(b, "POST", "/users/sam/suspend")).json()).toMatchObject({
      user: { status: "suspended" },
      sessions: 1,
    });
    // The session is kept while the user is suspended, so every answer says why.
    const denied = await authRequest(a.url, { cookie: token });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ reason: "user_suspended" });
    expect(await (await admin(b, "POST", "/users/sam/resume")).json()).toMatchObject({ revoked: 1 });
    // Resume ended the old session for good; a new sign-in works.
    expect((await authRequest(a.url, { cookie: token })).status).toBe(401);
    const fresh = await newSession("sam");
    expect((await authRequest(a.url, { cookie: fresh })).status).toBe(200);
  });

  test("a plain redis:// URL to a cluster node stops the start with a clear message", async () => {
    const { code, stderr } = await runBun(["src/main.ts"], {
      REDIS_URL: `redis://127.0.0.1:${cluster.nodes[0]!.port}`,
      VIGIL_CONFIG: config,
      VIGIL_PORT: "0",
    });
    expect(code).toBe(2);
    expect(stderr).toContain("Redis Cluster node");
    expect(stderr).toContain("redis+cluster://");
  });
});
