/**
 * Security writes are confirmed by Redis replicas or refused: a real primary and a real replica
 * (`redis-server --replicaof`), the replica frozen with SIGSTOP so it stops acknowledging while
 * its connection stays up, exactly like a replica cut off by a failover or a partition.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type Redis from "ioredis";
import {
  createRedisClient,
  createRedisStores,
  keyLayout,
  waitForRedis,
} from "../../src/adapters/redis/index.ts";
import { createWriteConfirmation, parseRole } from "../../src/adapters/redis/write-confirmation.ts";
import type { Stores } from "../../src/ports.ts";
import { parseSessionId } from "../../src/session/token.ts";
import { WriteNotConfirmedError } from "../../src/store-errors.ts";
import { authRequest, TEST_POLICY } from "../admin/forwarded.ts";
import { DATA_NODE_ARGS, type RedisNode, spawnRedisNode } from "../helpers/redis-sentinel.ts";
import { uniquePrefix } from "../helpers/redis-server.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

const TOKEN = "admin-token-for-tests-0123456789abcdef";

let primary: RedisNode;
let replica: RedisNode;
const clients: Redis[] = [];

async function client(port: number): Promise<Redis> {
  const created = createRedisClient(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 2_000 });
  clients.push(created);
  await waitForRedis(created, 5_000);
  return created;
}

async function waitInSync(node: RedisNode): Promise<void> {
  const probe = node.connect();
  try {
    for (let i = 0; i < 100; i++) {
      if (/master_link_status:up/.test(await probe.info("replication"))) return;
      await Bun.sleep(50);
    }
    throw new Error("replica never in sync");
  } finally {
    probe.disconnect();
  }
}

/** Runs `work` with the replica frozen (no acknowledgements, connection still open). */
async function withReplicaFrozen<T>(work: () => Promise<T>): Promise<T> {
  replica.pause();
  try {
    return await work();
  } finally {
    replica.resume();
  }
}

beforeAll(async () => {
  primary = await spawnRedisNode(DATA_NODE_ARGS);
  replica = await spawnRedisNode([...DATA_NODE_ARGS, "--replicaof", "127.0.0.1", String(primary.port)]);
  await waitInSync(replica);
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await replica?.stop();
  await primary?.stop();
});

describe("security writes on a primary with a replica", () => {
  /** A short WAIT time-out where the replica is frozen, a generous one where it must confirm. */
  let stores: Stores;
  let patientStores: Stores;
  let prefix: string;
  beforeAll(async () => {
    prefix = uniquePrefix();
    const connection = await client(primary.port);
    stores = createRedisStores(connection, prefix, {
      writeConfirmation: { replicas: "auto", timeoutMs: 300 },
    });
    patientStores = createRedisStores(connection, prefix, {
      writeConfirmation: { replicas: "auto", timeoutMs: 5_000 },
    });
  });

  test("a revoke returns only once the replica holds it", async () => {
    const { sessionId } = await signIn(patientStores, { id: "ana" }, Date.now());
    const { userId, hash } = parseSessionId(sessionId)!;
    const sessionKey = keyLayout(prefix).session(userId, hash);
    const onReplica = await client(replica.port);
    // The session is on the replica before the revoke: its absence afterwards is the revoke's.
    for (let i = 0; i < 100 && (await onReplica.exists(sessionKey)) === 0; i++) await Bun.sleep(20);
    expect(await onReplica.exists(sessionKey)).toBe(1);
    expect(await patientStores.sessions.delete(sessionId)).toBe(true);
    expect(await onReplica.exists(sessionKey)).toBe(0);
  });

  test("every security write the replica does not acknowledge is refused as not confirmed", async () => {
    const now = Date.now();
    const { sessionId } = await signIn(stores, { id: "ben" }, now);
    const other = await signIn(stores, { id: "ben" }, now);
    const writes: Array<[string, () => Promise<unknown>]> = [
      ["revoke", () => stores.sessions.delete(sessionId)],
      ["acr lowered", () => stores.sessions.update(other.sessionId, { acr: "low" })],
      ["step-up rotation", () => stores.sessions.rotate(other.sessionId, { acr: "phr" }, now, 60_000)],
      ["revoke all", () => stores.sessions.deleteByUser("ben")],
      ["suspend", () => stores.users.update("ben", { status: "suspended" })],
      ["groups", () => stores.users.update("ben", { groups: ["x"] })],
      ["passkey delete", () => stores.credentials.delete("no-such-passkey")],
      ["IdP groups", () => stores.federation.syncGroups("ben", "idp", ["x"])],
      ["user delete", () => stores.users.delete("ben")],
    ];
    await withReplicaFrozen(async () => {
      for (const [name, write] of writes) {
        const error = await write().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect([name, error]).toEqual([name, expect.any(WriteNotConfirmedError)]);
        expect((error as Error).message).toContain("0 of 1 replica(s) acknowledged within 300 ms");
      }
    });
  });

  test("the admin API answers 503 not_confirmed (never 200) when the replica does not acknowledge", async () => {
    const vigil: TestVigil = await startVigil({
      config: { admin: { token: TOKEN }, redis: { write_confirmation: { timeout: "1s" } } },
      policyText: TEST_POLICY,
      store: { redisUrl: `redis://127.0.0.1:${primary.port}` },
    });
    try {
      const { token, sessionId } = await signIn(vigil.stores, { id: "cleo" }, Date.now());
      const revoke = () =>
        fetch(`${vigil.url}/admin/sessions/${sessionId}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${TOKEN}` },
        });
      const refused = await withReplicaFrozen(revoke);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await refused.json()).toEqual({
        error: "not_confirmed",
        message: "the change was not confirmed by the store's replicas; retry",
      });
      // The retry, with the replica back, is confirmed: 200 if the first delete was lost, 404
      // (itself confirmed) if it was kept. Either way the session is refused from then on.
      expect([200, 404]).toContain((await revoke()).status);
      expect((await authRequest(vigil.url, { cookie: token })).status).toBe(401);
      // Logout is a security write too: refused, never a false "signed out".
      const second = await signIn(vigil.stores, { id: "cleo" }, Date.now());
      const logout = await withReplicaFrozen(() =>
        fetch(`${vigil.url}/logout`, {
          method: "POST",
          headers: {
            cookie: `vigil_session=${second.token}`,
            accept: "application/json",
            origin: "http://auth.localhost:8080",
          },
        }),
      );
      expect(logout.status).toBe(503);
      expect(logout.headers.get("set-cookie")).toBeNull();
    } finally {
      await vigil.close();
    }
  });
});

describe("the connection must talk to a primary", () => {
  test("a write that landed on a writable replica is refused (ROLE)", async () => {
    const direct = replica.connect();
    await direct.config("SET", "replica-read-only", "no");
    try {
      const onReplica = await client(replica.port);
      const stores = createRedisStores(onReplica, uniquePrefix());
      const error = await stores.users.update("nobody", { status: "suspended" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WriteNotConfirmedError);
      expect((error as Error).message).toContain("the Redis node is a slave, not the primary");
    } finally {
      await direct.config("SET", "replica-read-only", "yes");
      direct.disconnect();
    }
  });
});

describe("how many replicas", () => {
  test("auto under Sentinel wants at least one: a primary without replicas confirms nothing", async () => {
    const lone = await spawnRedisNode(DATA_NODE_ARGS);
    try {
      const connection = await client(lone.port);
      const confirmation = createWriteConfirmation({
        replicas: "auto",
        timeoutMs: 100,
        autoMinimum: 1,
        connectionFor: () => connection,
        markerKeyFor: () => "marker",
      });
      const confirm = confirmation.track("k");
      await connection.set("k", "v");
      await expect(confirm()).rejects.toThrow("0 of 1 replica(s) acknowledged within 100 ms");
      // A standalone primary (autoMinimum 0, no replica): the ROLE check alone, then done.
      const standalone = createWriteConfirmation({
        replicas: "auto",
        timeoutMs: 100,
        autoMinimum: 0,
        connectionFor: () => connection,
        markerKeyFor: () => "marker",
      });
      expect(await standalone.track("k")()).toBeUndefined();
    } finally {
      await lone.stop();
    }
  });

  test("a write whose connection was replaced before WAIT is refused (WAIT there may confirm a state without the write)", async () => {
    const connection = await client(primary.port);
    const confirmation = createWriteConfirmation({
      replicas: 1,
      timeoutMs: 300,
      autoMinimum: 0,
      connectionFor: () => connection,
      markerKeyFor: () => "marker",
    });
    const confirm = confirmation.track("k");
    await connection.set("k", "v");
    const reconnected = new Promise((resolve) => connection.once("ready", resolve));
    connection.disconnect(true);
    await reconnected;
    await expect(confirm()).rejects.toThrow("the connection to Redis changed during the write");
  });

  test("ROLE replies are read as role and connected replicas", () => {
    expect(parseRole(["master", 10, [["127.0.0.1", "6380", "10"]]])).toEqual({ role: "master", replicas: 1 });
    expect(parseRole(["slave", "127.0.0.1", 6379, "connected", 10])).toEqual({ role: "slave", replicas: 0 });
    expect(parseRole("nonsense")).toEqual({ role: "unknown", replicas: 0 });
  });
});
