/**
 * `bun bench/redis-cost.ts`: Redis time per decision, without HTTP. Seeds a user, a session and an
 * IP reputation entry in a fresh redis-server, then runs decision reads through the Redis store
 * (as /auth does, rate counters on) with 32 in flight, in BENCH_ROUNDS (default 7) rounds of
 * BENCH_SECONDS (default 1) per case, and prints the script calls' usec from INFO commandstats per
 * decision (the lowest and the median round: on a shared machine other processes inflate some
 * rounds), Redis's main-thread CPU per decision (the lowest round; it also counts reading the
 * request and writing the reply), this process's CPU per decision read (the lowest round: the
 * client's side, building and sending the call and decoding the reply; pin it with
 * `taskset -c 1` to keep it off Redis's core), and the commands the script ran. Short and light on purpose: the figure the full bench
 * (bench/run.ts) reports, without its cost.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedisClient, createRedisStores, waitForRedis } from "../src/adapters/redis/index.ts";
import { type DecisionStateQuery, ipReputationKey } from "../src/ports.ts";
import { commandStats, redisCpuMicros, scriptMicros, spawnRedis, statsDelta, stopProcess } from "./lib.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const IN_FLIGHT = 32;

const dir = mkdtempSync(join(tmpdir(), "vigil-redis-cost-"));
const redis = await spawnRedis(dir);
const client = createRedisClient(redis.url, { commandTimeoutMs: 2_000 });
try {
  await waitForRedis(client, 5_000);
  const stores = createRedisStores(client);
  const now = Date.now();
  await stores.users.put({
    id: "cost-user",
    displayName: "u",
    status: "active",
    groups: ["staff"],
    createdAt: now,
  });
  const { session } = await stores.sessions.create(
    {
      userId: "cost-user",
      acr: "phr",
      amr: ["hwk"],
      authAt: now,
      stepUpAt: now,
      ip: "8.8.8.8",
      country: "US",
      uaHash: "h",
    },
    now,
    12 * 3_600_000,
  );
  await stores.counters.add(ipReputationKey("8.8.8.8"), 5, 3_600_000);
  const base: DecisionStateQuery = {
    sessionId: undefined,
    userId: undefined,
    clientKey: "8.8.8.8",
    now,
    rateWindowMs: 60_000,
    location: undefined,
    idleTimeoutMs: 3_600_000,
  };
  const cases: Array<[string, Partial<DecisionStateQuery>]> = [
    ["session (as case (d))", { sessionId: session.id }],
    ["session + location (as case (e))", { sessionId: session.id, location: { lat: 37.75, lon: -97.8 } }],
    ["anonymous", {}],
  ];
  console.log(
    `${"case".padEnd(36)} ${"decisions".padStart(9)} ${"Redis µs/decision".padStart(22)} ${"Redis CPU µs".padStart(9)} ${"client CPU µs".padStart(12)}  commands/decision`,
  );
  for (const [name, overrides] of cases) {
    const run = async (until: number) => {
      let count = 0;
      const worker = async () => {
        while (performance.now() < until) {
          await stores.decisions.read({ ...base, ...overrides, now: Date.now() });
          count++;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      return count;
    };
    await run(performance.now() + 500); // warm-up
    const statsBefore = await commandStats(redis.port);
    const rounds: number[] = [];
    const cpuRounds: number[] = [];
    const clientRounds: number[] = [];
    let decisions = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const before = await scriptMicros(redis.port);
      const cpuBefore = await redisCpuMicros(redis.port);
      const clientBefore = process.cpuUsage();
      const count = await run(performance.now() + SECONDS * 1_000);
      const client = process.cpuUsage(clientBefore);
      clientRounds.push((client.user + client.system) / count);
      rounds.push(((await scriptMicros(redis.port)).usec - before.usec) / count);
      cpuRounds.push(((await redisCpuMicros(redis.port)) - cpuBefore) / count);
      decisions += count;
    }
    const inner = statsDelta(statsBefore, await commandStats(redis.port));
    const perDecision = Object.entries(inner)
      .filter(([command]) => command !== "evalsha" && command !== "eval")
      .map(([command, calls]) => `${command} ${(calls / decisions).toFixed(1)}`)
      .join(", ");
    rounds.sort((a, b) => a - b);
    const figure = `${rounds[0]!.toFixed(1)} (median ${rounds[Math.floor(rounds.length / 2)]!.toFixed(1)})`;
    const cpu = Math.min(...cpuRounds).toFixed(1);
    const clientCpu = Math.min(...clientRounds).toFixed(1);
    console.log(
      `${name.padEnd(36)} ${String(decisions).padStart(9)} ${figure.padStart(22)} ${cpu.padStart(9)} ${clientCpu.padStart(12)}  ${perDecision}`,
    );
  }
} finally {
  client.disconnect();
  await stopProcess(redis.child);
  rmSync(dir, { recursive: true, force: true });
}
