/**
 * Security writes on Redis Cluster are confirmed on the master that owns the key's slot: a real
 * cluster of three masters with one replica each. Freezing one master's replica (SIGSTOP:
 * connection open, no acknowledgements) must refuse the writes of a user whose slot that master
 * owns, and only those: a WAIT sent to any other node would confirm them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Cluster } from "ioredis";
import {
  createClusterClient,
  createRedisClient,
  createRedisStores,
  keyLayout,
  waitForRedis,
} from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { parseSessionId } from "../../src/session/token.ts";
import { WriteNotConfirmedError } from "../../src/store-errors.ts";
import { type ClusterNode, type RedisClusterHandle, startRedisCluster } from "../helpers/redis-cluster.ts";
import { uniquePrefix } from "../helpers/redis-server.ts";
import { signIn } from "../helpers/vigil.ts";

let cluster: RedisClusterHandle;
const clients: Cluster[] = [];
let stores: Stores;
let prefix: string;

async function clusterClient(): Promise<Cluster> {
  const created = createClusterClient(cluster.url, { commandTimeoutMs: 2_000 });
  clients.push(created);
  await waitForRedis(created, 10_000);
  return created;
}

/** The replica node of the master that owns `key`'s slot (from CLUSTER NODES and KEYSLOT). */
async function replicaOfOwner(key: string): Promise<ClusterNode> {
  const port = cluster.nodes[0]!.port;
  const slot = Number((await cluster.cli(port, ["cluster", "keyslot", key])).trim());
  const lines = (await cluster.cli(port, ["cluster", "nodes"])).trim().split("\n");
  const fields = lines.map((line) => line.split(" "));
  const owner = fields.find(
    ([, , flags, , , , , , ...ranges]) =>
      flags!.includes("master") &&
      ranges.some((range) => {
        const [from, to = from] = range.split("-").map(Number);
        return slot >= from! && slot <= to!;
      }),
  );
  const replica = fields.find(([, , flags, masterId]) => flags!.includes("slave") && masterId === owner![0]);
  const replicaPort = Number(/:(\d+)@/.exec(replica![1]!)![1]);
  return cluster.nodes.find((node) => node.port === replicaPort)!;
}

/** Two users whose slots belong to different masters (so different replicas). */
async function usersOnTwoMasters(): Promise<[string, string]> {
  const keys = keyLayout(prefix);
  const first = "ines";
  const firstReplica = await replicaOfOwner(keys.user(first));
  for (let i = 0; i < 100; i++) {
    const other = `user-${i}`;
    if ((await replicaOfOwner(keys.user(other))).port !== firstReplica.port) return [first, other];
  }
  throw new Error("every user landed on one master");
}

/** Runs `work` with `node` stopped (SIGSTOP); returns once the node is back with its link to its master up. */
async function frozen<T>(node: ClusterNode, work: () => Promise<T>): Promise<T> {
  node.child.kill("SIGSTOP");
  try {
    return await work();
  } finally {
    node.child.kill("SIGCONT");
    await linkUp(node);
  }
}

/** Waits until a thawed replica reports its link to its master up again. */
async function linkUp(node: ClusterNode): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if ((await cluster.cli(node.port, ["info", "replication"])).includes("master_link_status:up")) return;
    await Bun.sleep(20);
  }
  throw new Error(`replica ${node.port} did not get its link to its master back`);
}

const outcome = (write: Promise<unknown>) =>
  write.then(
    () => "confirmed",
    (error: unknown) => (error instanceof WriteNotConfirmedError ? "not_confirmed" : String(error)),
  );

beforeAll(async () => {
  cluster = await startRedisCluster(3, 1);
  prefix = uniquePrefix();
  stores = createRedisStores(await clusterClient(), prefix, {
    writeClient: await clusterClient(),
    // Long enough that a healthy replica acknowledges on a loaded machine; a frozen one never does.
    writeConfirmation: { replicas: "auto", timeoutMs: 1_000 },
  });
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await cluster?.stop();
});

describe("write confirmation on Redis Cluster", () => {
  test("a revoke returns once the replica of the user's slot holds it", async () => {
    const now = Date.now();
    const { sessionId } = await signIn(stores, { id: "hugo" }, now);
    const { userId, hash } = parseSessionId(sessionId)!;
    const sessionKey = keyLayout(prefix).session(userId, hash);
    const replica = await replicaOfOwner(sessionKey);
    // A cluster replica answers reads of its master's slots on a connection that sent READONLY.
    const replicaConnection = createRedisClient(`redis://127.0.0.1:${replica.port}`, {
      commandTimeoutMs: 2_000,
    });
    await waitForRedis(replicaConnection, 5_000);
    await replicaConnection.call("READONLY");
    const onReplica = () => replicaConnection.exists(sessionKey);
    for (let i = 0; i < 100 && (await onReplica()) === 0; i++) await Bun.sleep(20);
    expect(await onReplica()).toBe(1);
    expect(await stores.sessions.delete(sessionId)).toBe(true);
    expect(await onReplica()).toBe(0);
    replicaConnection.disconnect();
  });

  test("WAIT runs on the slot owner: its frozen replica refuses that user's writes, not another's", async () => {
    const [stalled, unaffected] = await usersOnTwoMasters();
    const now = Date.now();
    const stalledSession = await signIn(stores, { id: stalled }, now);
    const otherSession = await signIn(stores, { id: unaffected }, now);
    const replica = await replicaOfOwner(keyLayout(prefix).user(stalled));
    const results = await frozen(replica, async () => ({
      revoke: await outcome(stores.sessions.delete(stalledSession.sessionId)),
      suspend: await outcome(stores.users.update(stalled, { status: "suspended" })),
      revokeAll: await outcome(stores.sessions.deleteByUser(stalled)),
      otherRevoke: await outcome(stores.sessions.delete(otherSession.sessionId)),
      otherSuspend: await outcome(stores.users.update(unaffected, { status: "suspended" })),
    }));
    expect(results).toEqual({
      revoke: "not_confirmed",
      suspend: "not_confirmed",
      revokeAll: "not_confirmed",
      otherRevoke: "confirmed",
      otherSuspend: "confirmed",
    });
  }, 30_000);

  test("a passkey delete of an unknown id confirms the owner key's slot", async () => {
    expect(await outcome(stores.credentials.delete("no-such-passkey"))).toBe("confirmed");
    const replica = await replicaOfOwner(keyLayout(prefix).credentialOwner("no-such-passkey"));
    expect(await frozen(replica, () => outcome(stores.credentials.delete("no-such-passkey")))).toBe(
      "not_confirmed",
    );
  }, 30_000);
});
