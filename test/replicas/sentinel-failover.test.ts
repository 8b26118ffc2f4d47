/**
 * Redis failovers under load, for real: a Sentinel set (primary, replica, three sentinels; see
 * test/helpers/redis-sentinel.ts) and two Vigil processes on `redis+sentinel://`, /auth requests
 * flowing to both, while sessions are revoked through the admin API inside the failover window:
 * - a graceful `SENTINEL FAILOVER` (the old primary keeps accepting writes until Sentinel demotes
 *   it and it resyncs from the new one, which wipes what was written to it meanwhile);
 * - `kill -9` of the primary (restarted a moment later as a replica, as its pod would be).
 * Every revoke is answered 200/404 (confirmed) or 503 (retry); it is retried until confirmed. A
 * session is never allowed by either Vigil once its revoke was confirmed, and both Vigils agree
 * after the switch. Sentinel's down-after-milliseconds is 1 s here to keep the test short.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type Redis from "ioredis";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { sessionIdFromToken } from "../../src/session/token.ts";
import { forwardedHeaders, TEST_POLICY } from "../admin/forwarded.ts";
import { type SentinelSet, startSentinelSet } from "../helpers/redis-sentinel.ts";
import { uniquePrefix } from "../helpers/redis-server.ts";
import { signIn } from "../helpers/vigil.ts";
import { type VigilProcess as Replica, spawnReplica, tempFile } from "../helpers/vigil-process.ts";

const ADMIN_TOKEN = "failover-admin-token-0123456789abcdef";
const VICTIMS = 6;
const REVOKE_EVERY_MS = 400;
const RETRY_EVERY_MS = 200;
const SCENARIO_DEADLINE_MS = 40_000;

let set: SentinelSet;
let client: Redis;
let stores: Stores;
let vigils: Replica[];

interface Answer {
  vigil: number;
  token: string;
  sentAt: number;
  status: number;
}

/** Steady /auth traffic: two loops per Vigil, each cycling through the tokens. */
function startLoad(tokens: string[]): { answers: Answer[]; stop(): Promise<void> } {
  const answers: Answer[] = [];
  let running = true;
  const loop = async (vigil: number) => {
    while (running) {
      for (const token of tokens) {
        const sentAt = Date.now();
        const status = await fetch(`${vigils[vigil]!.url}/auth`, {
          headers: forwardedHeaders({ cookie: token }),
          signal: AbortSignal.timeout(5_000),
        })
          .then(async (response) => {
            await response.arrayBuffer();
            return response.status;
          })
          .catch(() => 0);
        answers.push({ vigil, token, sentAt, status });
        // About 300-400 requests per second in all: steady, and fair to a shared machine.
        await Bun.sleep(10);
      }
    }
  };
  const loops = [0, 0, 1, 1].map(loop);
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

interface Revoke {
  token: string;
  /** Every answer, in order; the last one is 200 or 404 (confirmed). */
  statuses: number[];
  confirmedAt: number;
}

/** DELETE /admin/sessions/:id, retried on 503 until confirmed (200, or 404 once already gone). */
async function revokeUntilConfirmed(vigil: Replica, token: string): Promise<Revoke> {
  const statuses: number[] = [];
  const deadline = Date.now() + SCENARIO_DEADLINE_MS;
  while (Date.now() < deadline) {
    const response = await fetch(`${vigil.url}/admin/sessions/${sessionIdFromToken(token)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: AbortSignal.timeout(5_000),
    }).catch(() => undefined);
    const status = response?.status ?? 0;
    await response?.arrayBuffer();
    statuses.push(status);
    if (status === 200 || status === 404) return { token, statuses, confirmedAt: Date.now() };
    await Bun.sleep(RETRY_EVERY_MS);
  }
  throw new Error(`revoke never confirmed: ${statuses.join(",")}`);
}

async function status(vigil: Replica, token: string): Promise<number> {
  const response = await fetch(`${vigil.url}/auth`, { headers: forwardedHeaders({ cookie: token }) });
  await response.arrayBuffer();
  return response.status;
}

/** The answer once it is not a 503 (a connection may still be re-established); 503 after 5 s. */
async function settledStatus(vigil: Replica, token: string): Promise<number> {
  const deadline = Date.now() + 5_000;
  let answer = await status(vigil, token);
  while (answer === 503 && Date.now() < deadline) {
    await Bun.sleep(100);
    answer = await status(vigil, token);
  }
  return answer;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await Bun.sleep(100);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** vigil_write_confirmations_total of both Vigils, by result. */
async function writeConfirmations(): Promise<Record<"confirmed" | "not_confirmed", number>> {
  const total = { confirmed: 0, not_confirmed: 0 };
  for (const vigil of vigils) {
    const text = await (await fetch(`${vigil.url}/metrics`)).text();
    for (const result of ["confirmed", "not_confirmed"] as const) {
      const line = new RegExp(`^vigil_write_confirmations_total\\{result="${result}"\\} (\\d+)`, "m").exec(
        text,
      );
      total[result] += Number(line?.[1] ?? 0);
    }
  }
  return total;
}

/** FAILOVER_REPORT=1: what the run saw (docs/reliability.md quotes it). */
function report(name: string, triggeredAt: number, control: string, revokes: Revoke[], answers: Answer[]) {
  const failed = answers.filter((a) => a.token === control && a.status !== 200 && a.sentAt >= triggeredAt);
  const outage = failed.length === 0 ? 0 : failed.at(-1)!.sentAt - failed[0]!.sentAt;
  console.log(
    JSON.stringify({
      scenario: name,
      requests: answers.length,
      answered_503: answers.filter((a) => a.status === 503).length,
      control_outage_ms: outage,
      control_outage_starts_ms_after_trigger: failed.length === 0 ? 0 : failed[0]!.sentAt - triggeredAt,
      revoke_answers: revokes.map((r) => r.statuses.join(" ")),
      revokes_confirmed_ms_after_trigger: revokes.map((r) => r.confirmedAt - triggeredAt),
    }),
  );
}

/**
 * Load on both Vigils, `trigger` the failover, revoke one victim session every REVOKE_EVERY_MS
 * (alternating Vigils) while it unfolds, then let it settle and judge every answer.
 */
async function failoverUnderLoad(name: string, trigger: (oldPort: number) => Promise<void>) {
  const now = Date.now();
  const victims: string[] = [];
  for (let i = 0; i < VICTIMS; i++) victims.push((await signIn(stores, { id: `${name}-v${i}` }, now)).token);
  const control = (await signIn(stores, { id: `${name}-control` }, now)).token;
  for (const token of [...victims, control])
    for (const vigil of vigils) expect(await status(vigil, token)).toBe(200);

  const oldPort = await set.primaryPort();
  const load = startLoad([...victims, control]);
  let triggeredAt = 0;
  let revokes: Revoke[] = [];
  try {
    await Bun.sleep(300);
    triggeredAt = Date.now();
    await trigger(oldPort);
    revokes = await Promise.all(
      victims.map(async (token, i) => {
        await Bun.sleep(i * REVOKE_EVERY_MS);
        return revokeUntilConfirmed(vigils[i % 2]!, token);
      }),
    );
    // Settled: a new primary, the old node back as its in-sync replica, both Vigils allowing the
    // control session again; then a little more load on the settled set.
    const newPort = await set.waitForNewPrimary(oldPort, SCENARIO_DEADLINE_MS);
    await set.waitForReplicaInSync(set.nodes.find((node) => node.port === oldPort)!, SCENARIO_DEADLINE_MS);
    for (const vigil of vigils)
      await until("control allowed again", async () => (await status(vigil, control)) === 200, 20_000);
    await Bun.sleep(1_000);
    await load.stop();

    // Every revoke was answered 503 (retry) or confirmed (200/404), never an error or a success
    // that did not hold.
    for (const revoke of revokes) {
      expect(revoke.statuses.every((s) => s === 200 || s === 404 || s === 503)).toBe(true);
    }
    // Zero wrong allows: no victim request sent after its revoke was confirmed was allowed.
    const wrongAllows = load.answers.filter((answer) => {
      const revoke = revokes.find((r) => r.token === answer.token);
      return revoke !== undefined && answer.sentAt > revoke.confirmedAt && answer.status === 200;
    });
    expect({ wrongAllows: wrongAllows.length, first: wrongAllows.slice(0, 2) }).toEqual({
      wrongAllows: 0,
      first: [],
    });
    // Under load, a decision is allowed, refused, or 503 while the store switches: never a 500.
    const other = load.answers.filter((answer) => ![200, 401, 503].includes(answer.status));
    expect({ unexpected: other.length, first: other.slice(0, 2) }).toEqual({ unexpected: 0, first: [] });
    // Both Vigils agree after the switch: every victim refused, the control session allowed.
    for (const vigil of vigils) {
      for (const token of victims) expect(await settledStatus(vigil, token)).toBe(401);
      expect(await settledStatus(vigil, control)).toBe(200);
    }
    // And the revokes are kept in the new primary's data, not only refused by luck.
    await waitForRedis(client, 10_000);
    for (const token of victims) expect(await stores.sessions.get(sessionIdFromToken(token))).toBeUndefined();
    expect(newPort).not.toBe(oldPort);
    if (process.env.FAILOVER_REPORT) report(name, triggeredAt, control, revokes, load.answers);
    return { revokes, answers: load.answers };
  } catch (error) {
    // What the run saw, to tell a lost revoke from a slow machine.
    report(name, triggeredAt, control, revokes, load.answers);
    for (const [i, vigil] of vigils.entries())
      console.log(`vigil ${i} log tail:`, vigil.logLines().slice(-8));
    throw error;
  } finally {
    await load.stop();
  }
}

beforeAll(async () => {
  // FAILOVER_DOWN_AFTER_MS: measure with a production-like value (docs/deployment.md).
  set = await startSentinelSet({ downAfterMs: Number(process.env.FAILOVER_DOWN_AFTER_MS ?? 1_000) });
  const prefix = uniquePrefix();
  client = createRedisClient(set.url, { commandTimeoutMs: 2_000 });
  await waitForRedis(client, 10_000);
  stores = createRedisStores(client, prefix);
  await stores.users.put({
    id: "seed",
    displayName: "seed",
    status: "active",
    groups: [],
    createdAt: Date.now(),
  });
  const high = { session: 1e9, user: 1e9, ip: 1e9 };
  const config = tempFile(
    "config.yaml",
    JSON.stringify({
      trusted_proxies: ["127.0.0.1/32", "::1/128"],
      redis: { prefix, command_timeout: "500ms", write_confirmation: { timeout: "500ms" } },
      risk: { rate: { soft: high, hard: high } },
    }),
  );
  const env = {
    REDIS_URL: set.url,
    VIGIL_CONFIG: config,
    VIGIL_POLICY: tempFile("policy.yaml", TEST_POLICY),
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
  };
  vigils = await Promise.all([spawnReplica(env), spawnReplica(env)]);
}, 60_000);

afterAll(async () => {
  await Promise.all((vigils ?? []).map((vigil) => vigil.stop()));
  client?.disconnect();
  await set?.stop();
});

describe("a Sentinel client never stops reconnecting", () => {
  test("a reconnect cut short while it asks the sentinels (as the failover detector does) is retried", async () => {
    const probe = createRedisClient(set.url, { commandTimeoutMs: 2_000 });
    try {
      await waitForRedis(probe, 10_000);
      // What ioredis's failover detector does when +switch-master arrives during a reconnect:
      // it closes the connector while the client is still resolving the primary.
      const connector = (probe as unknown as { connector: { disconnect(): void } }).connector;
      probe.once("connecting", () => connector.disconnect());
      probe.stream.destroy();
      await until("the client is connected again", async () => (await probe.ping()) === "PONG", 10_000);
      expect(probe.status).toBe("ready");
    } finally {
      probe.disconnect();
    }
  }, 20_000);
});

describe("Redis Sentinel failover under load, two Vigils", () => {
  test("graceful SENTINEL FAILOVER: no confirmed revoke lost, 0 wrong allows, both Vigils agree", async () => {
    const { revokes } = await failoverUnderLoad("graceful", async () => {
      const sentinel = set.sentinels[0]!.connect();
      expect(await sentinel.call("SENTINEL", "FAILOVER", set.masterName)).toBe("OK");
      sentinel.disconnect();
    });
    // The window is real: revokes issued while the old primary was being replaced were refused.
    expect(revokes.some((revoke) => revoke.statuses.includes(503))).toBe(true);
    // And operators see it: both outcomes are counted.
    const counted = await writeConfirmations();
    expect(counted.confirmed).toBeGreaterThanOrEqual(VICTIMS);
    expect(counted.not_confirmed).toBeGreaterThan(0);
  }, 90_000);

  test("kill -9 of the primary: 0 wrong allows, revokes confirmed once a replica is back", async () => {
    const { revokes } = await failoverUnderLoad("kill", async (oldPort) => {
      const old = set.nodes.find((node) => node.port === oldPort)!;
      await old.kill();
      // Its pod restarts and rejoins as a replica of whichever node Sentinel promoted.
      void set.waitForNewPrimary(oldPort, SCENARIO_DEADLINE_MS).then(async (newPort) => {
        await Bun.sleep(1_000);
        await old.start(["--replicaof", "127.0.0.1", String(newPort)]);
      });
    });
    expect(revokes.some((revoke) => revoke.statuses.includes(503))).toBe(true);
  }, 90_000);
});
