/**
 * The Redis store on a real 3-master Redis Cluster: the whole store contract, plus what only a
 * cluster shows (a decision is two script calls, one per slot; a plain redis:// URL to a cluster
 * node is refused).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Cluster } from "ioredis";
import {
  clusterModeRefusal,
  createClusterClient,
  createRedisClient,
  createRedisStores,
  keyLayout,
  waitForRedis,
} from "../../src/adapters/redis/index.ts";
import { type RedisClusterHandle, startRedisCluster } from "../helpers/redis-cluster.ts";
import { uniquePrefix } from "../helpers/redis-server.ts";
import { signIn } from "../helpers/vigil.ts";
import { runStoreContract } from "./store-contract.ts";

// A Redis Cluster: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

let cluster: RedisClusterHandle;
let client: Cluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
  client = createClusterClient(cluster.url, { commandTimeoutMs: 1_000 });
  await waitForRedis(client, 10_000);
}, 30_000);

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

runStoreContract("redis cluster", (options) => createRedisStores(client, uniquePrefix(), options));

describe("redis cluster", () => {
  test("a user's keys share one slot, a client's another, and users spread over the masters", async () => {
    const keys = keyLayout("vigil:");
    const slot = async (key: string) => Number(await client.cluster("KEYSLOT", key));
    const userSlots = new Set(
      await Promise.all(
        [
          keys.user("alice"),
          keys.userSessions("alice"),
          keys.session("alice", "ab".repeat(32)),
          keys.userRate("alice", 7),
          keys.userCredentials("alice"),
          keys.credential("alice", "cred-1"),
        ].map(slot),
      ),
    );
    expect(userSlots.size).toBe(1);
    const clientSlots = new Set(
      await Promise.all(
        [
          keys.ipRate("2001:db8::/64", 7),
          keys.ipRate("2001:db8::/64", 6),
          keys.ipReputation("2001:db8::/64"),
        ].map(slot),
      ),
    );
    expect(clientSlots.size).toBe(1);
    const owners = new Set<string>();
    const slots = (await client.cluster("SLOTS")) as unknown as Array<[number, number, [string, number]]>;
    for (let i = 0; i < 60; i++) {
      const s = await slot(keys.user(`user-${i}`));
      const range = slots.find(([from, to]) => s >= from && s <= to)!;
      owners.add(String(range[2][1]));
    }
    expect(owners.size).toBe(3);
  });

  test("a decision is one script call per slot: the user's and the client's, sent together", async () => {
    const stores = createRedisStores(client, uniquePrefix());
    const session = await signIn(stores, { id: "dora", groups: ["g"] }, Date.now(), {
      acr: "phr",
      amr: ["hwk"],
      ip: "192.0.2.1",
    });
    const before = await scriptCalls();
    const state = await stores.decisions.read({
      sessionId: session.sessionId,
      userId: undefined,
      clientKey: "198.51.100.77",
      now: Date.now(),
      rateWindowMs: 60_000,
      location: undefined,
      idleTimeoutMs: 3_600_000,
    });
    expect(state.session?.userId).toBe("dora");
    expect(state.user?.groups).toEqual(["g"]);
    expect(state.rate).toMatchObject({ session: 1, user: 1, ip: 1 });
    expect((await scriptCalls()) - before).toBe(2);
  });

  test("a redis:// URL that reaches a cluster node is refused with a clear message", async () => {
    const single = createRedisClient(`redis://127.0.0.1:${cluster.nodes[0]!.port}`, {
      commandTimeoutMs: 1_000,
    });
    try {
      await waitForRedis(single, 5_000);
      expect(await clusterModeRefusal(single)).toContain("redis+cluster://");
    } finally {
      single.disconnect();
    }
    expect(await clusterModeRefusal(client)).toBeUndefined();
  });
});

/** EVALSHA + EVAL calls over every master (INFO commandstats). */
async function scriptCalls(): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes) {
    const info = await cluster.cli(node.port, ["info", "commandstats"]);
    for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) total += Number(match[1]);
  }
  return total;
}
