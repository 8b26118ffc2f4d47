/**
 * `bun run bench`: Vigil's /auth side by side with a bare Bun.serve and Hono, in one run, on
 * loopback. Every server is its own process pinned to core 1 (taskset); wrk and
 * redis-server run on core 0. Prints a table and writes bench/RESULTS.md.
 *
 * Cases: (a) bare Bun.serve 200, (b) Hono 200, (c) Vigil bypass rule, (d) Vigil authenticated rule
 * with a Redis session, (e) Vigil stepup rule, fresh step-up, every risk signal on (100k-entry IP
 * list, geo on a public X-Forwarded-For with a same-country session, rate counters, decision log),
 * then (e) again with every allow logged, and (a) and (e) at a steady 5,000 req/s (wrk paced by a
 * Lua delay()) for the steady-load p99.
 *
 * The steady cases warm up twice: closed loop (the JIT reaches its top tier), then at the steady
 * rate itself (BENCH_STEADY_WARMUP_SECONDS, default 10): a new load shape makes JSC recompile the
 * stream and socket code it runs, on the same core, and those compiles are not the steady state
 * (docs/performance.md, "The p99 tail").
 *
 * Environment: BENCH_SECONDS (default 8 per case), BENCH_CONNECTIONS (50),
 * BENCH_FIXED_SECONDS (20), BENCH_STEADY_WARMUP_SECONDS (10).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { RUNTIME_ENV } from "../src/runtime-tuning.ts";
import {
  commandStats,
  cpuMicros,
  freePort,
  LOOPBACK,
  machineInfo,
  PINNING,
  peakRssMiB,
  pinned,
  readsProcessed,
  resetPeakRss,
  rssMiB,
  SERVER_CORE,
  scriptMicros,
  spawnRedis,
  statsDelta,
  stopProcess,
  waitForHttp,
} from "./lib.ts";
import { type LoadResult, runWrk, runWrkAtRate } from "./load.ts";
import { PUBLIC_CLIENT, prepareScenario } from "./scenario.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = 2;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const FIXED_RATE = 5_000;
const FIXED_SECONDS = Number(process.env.BENCH_FIXED_SECONDS ?? 20);
const STEADY_WARMUP_SECONDS = Number(process.env.BENCH_STEADY_WARMUP_SECONDS ?? 10);
const ALLOW_SAMPLE_RATE = 0.01;
const ROOT = join(import.meta.dir, "..");

interface Row {
  name: string;
  load: LoadResult;
  cpuUsPerReq: number;
  rssStart: number;
  rssEnd: number;
  /** Peak RSS (VmHWM) over the warm-up and the measured run. */
  rssPeak: number;
  redis?: {
    perReq: Record<string, number>;
    evalsha: number;
    roundTrips: number;
    commands: number;
    /** Socket reads Redis made per decision: below 1 when decisions reach it in batches. */
    reads: number;
    /** Redis time per decision: INFO commandstats usec of the script calls, over the requests. */
    usPerDecision: number;
  };
  note?: string;
}

interface Server {
  child: Subprocess;
  url: string;
}

const dir = mkdtempSync(join(tmpdir(), "vigil-bench-"));
const spawned: Subprocess[] = [];
const commands: string[] = [];

async function startServer(
  command: string[],
  env: Record<string, string> = {},
  logFile?: string,
): Promise<Server> {
  const port = await freePort();
  const child = Bun.spawn(pinned(SERVER_CORE, [...command, String(port)]), {
    cwd: ROOT,
    env: { ...process.env, ...env, VIGIL_PORT: String(port) },
    stdout: logFile ? Bun.file(logFile) : "ignore",
    stderr: "inherit",
  });
  spawned.push(child);
  const url = `http://${LOOPBACK}:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  return { child, url };
}

/** Warm-up, then the measured wrk run with RSS, CPU and Redis counters around it. */
async function measure(
  name: string,
  server: Server,
  path: string,
  headers: Record<string, string>,
  redisPort?: number,
): Promise<Row> {
  const url = `${server.url}${path}`;
  const probe = await fetch(url, { headers, redirect: "manual" });
  if (probe.status !== 200)
    throw new Error(`${name}: expected 200, got ${probe.status} ${await probe.text()}`);
  const rssStart = rssMiB(server.child.pid);
  resetPeakRss(server.child.pid);
  await runWrk({ url, headers, seconds: WARMUP_SECONDS, connections: CONNECTIONS, dir });
  const statsBefore = redisPort === undefined ? undefined : await commandStats(redisPort);
  const readsBefore = redisPort === undefined ? 0 : await readsProcessed(redisPort);
  const scriptBefore = redisPort === undefined ? undefined : await scriptMicros(redisPort);
  const cpuBefore = cpuMicros(server.child.pid);
  const load = await runWrk({ url, headers, seconds: SECONDS, connections: CONNECTIONS, dir });
  const cpu = cpuMicros(server.child.pid) - cpuBefore;
  const rssEnd = rssMiB(server.child.pid);
  const rssPeak = peakRssMiB(server.child.pid);
  if (commands.length === 0) commands.push(load.command);
  let redis: Row["redis"];
  if (statsBefore !== undefined && redisPort !== undefined) {
    const delta = statsDelta(statsBefore, await commandStats(redisPort));
    const reads = ((await readsProcessed(redisPort)) - readsBefore) / load.requests;
    const perReq: Record<string, number> = {};
    let total = 0;
    for (const [command, calls] of Object.entries(delta)) {
      perReq[command] = calls / load.requests;
      total += calls;
    }
    const evalsha = (delta.evalsha ?? 0) / load.requests;
    // Commands reach Redis over the wire only as script calls on the decision path; the rest of
    // commandstats counts what the Lua script ran inside Redis.
    const topLevel = (delta.evalsha ?? 0) + (delta.eval ?? 0) + (delta.script ?? 0);
    const usPerDecision = ((await scriptMicros(redisPort)).usec - (scriptBefore?.usec ?? 0)) / load.requests;
    redis = {
      perReq,
      evalsha,
      roundTrips: topLevel / load.requests,
      commands: total / load.requests,
      reads,
      usPerDecision,
    };
  }
  const row: Row = { name, load, cpuUsPerReq: cpu / load.requests, rssStart, rssEnd, rssPeak, redis };
  console.log(`  ${formatRow(row, undefined)}`);
  return row;
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

function formatRow(row: Row, baseline: Row | undefined): string {
  const ratio = baseline ? `${(row.load.rps / baseline.load.rps).toFixed(2)}×` : "";
  const redis = row.redis
    ? `${row.redis.roundTrips.toFixed(2)} rt, ${row.redis.commands.toFixed(1)} cmds, ${row.redis.reads.toFixed(2)} rd, ${row.redis.usPerDecision.toFixed(1)} µs`
    : "-";
  return [
    row.name.padEnd(44),
    `${Math.round(row.load.rps)}`.padStart(7),
    ratio.padStart(6),
    ms(row.load.p50).padStart(6),
    ms(row.load.p99).padStart(6),
    ms(row.load.p999).padStart(6),
    row.cpuUsPerReq.toFixed(1).padStart(6),
    redis.padStart(36),
    `${row.rssStart.toFixed(0)}→${row.rssEnd.toFixed(0)} (${row.rssPeak.toFixed(0)})`.padStart(15),
    String(row.load.errors).padStart(6),
  ].join(" ");
}

const HEADER = [
  "case".padEnd(44),
  "req/s".padStart(7),
  "ratio".padStart(6),
  "p50".padStart(6),
  "p99".padStart(6),
  "p99.9".padStart(6),
  "µs/req".padStart(6),
  "Redis/decision".padStart(36),
  "RSS MiB (peak)".padStart(15),
  "errors".padStart(6),
].join(" ");

function markdownTable(rows: Row[], baseline: Row): string {
  const lines = [
    "| case | req/s | × bare | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | Redis µs/decision | Redis round trips/decision | Redis commands/decision (incl. inside Lua) | Redis socket reads/decision | RSS start → end (peak) MiB | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.name} | ${Math.round(row.load.rps).toLocaleString("en")} | ${(row.load.rps / baseline.load.rps).toFixed(2)} | ${ms(row.load.p50)} | ${ms(row.load.p99)} | ${ms(row.load.p999)} | ${row.cpuUsPerReq.toFixed(1)} | ${row.redis ? row.redis.usPerDecision.toFixed(1) : "—"} | ${row.redis ? `${row.redis.roundTrips.toFixed(2)} (EVALSHA ${row.redis.evalsha.toFixed(2)})` : "—"} | ${row.redis ? row.redis.commands.toFixed(1) : "—"} | ${row.redis ? row.redis.reads.toFixed(2) : "—"} | ${row.rssStart.toFixed(0)} → ${row.rssEnd.toFixed(0)} (${row.rssPeak.toFixed(0)}) | ${row.load.errors} |`,
    );
  }
  return lines.join("\n");
}

async function main() {
  const started = Date.now();
  console.log(`vigil bench: ${SECONDS}s per case after ${WARMUP_SECONDS}s warm-up, wrk -t1 -c${CONNECTIONS}`);
  console.log(
    PINNING
      ? "pinning: server on core 1, wrk and redis-server on core 0"
      : "pinning: off (needs taskset and 2 cores)",
  );
  const redis = await spawnRedis(dir);
  spawned.push(redis.child);
  const scenario = await prepareScenario(dir, redis.url);
  const listEntries = scenario.listEntries;
  const { bypass, session: sessionHeaders, full } = scenario.headers;
  const base = bypass;
  const vigilCommand = [process.execPath, "src/main.ts"];
  const rows: Row[] = [];

  const run = async (
    name: string,
    command: string[],
    path: string,
    headers: Record<string, string>,
    env?: Record<string, string>,
    serverEnv: Record<string, string> = {},
  ) => {
    const logFile = env ? join(dir, `log-${rows.length}.ndjson`) : undefined;
    const server = await startServer(command, { ...serverEnv, ...env }, logFile);
    const row = await measure(name, server, path, headers, env ? redis.port : undefined);
    await stopProcess(server.child);
    if (logFile) {
      const lines = readFileSync(logFile, "utf8")
        .split("\n")
        .filter((l) => l.includes('"msg":"decision"'));
      row.note = `${lines.length} decision log lines`;
    }
    rows.push(row);
    return row;
  };

  console.log(HEADER);
  await run("(a) bare Bun.serve → 200", [process.execPath, "bench/servers/bare.ts"], "/auth", base);
  await run("(b) Hono → 200", [process.execPath, "bench/servers/hono.ts"], "/auth", base);
  // The same bare server started with Vigil's runtime tuning (src/runtime-tuning.ts), so the
  // tuning's own share of Vigil's ratio is visible; ratios stay against the untuned (a).
  await run(
    "(a′) bare Bun.serve, Vigil's runtime env",
    [process.execPath, "bench/servers/bare.ts"],
    "/auth",
    base,
    undefined,
    RUNTIME_ENV,
  );
  // main.ts reads its port from VIGIL_PORT; the trailing port argument is ignored.
  const vigil = scenario.env(ALLOW_SAMPLE_RATE);
  await run("(c) Vigil bypass rule", vigilCommand, "/auth", bypass, vigil);
  await run("(d) Vigil authenticated rule, Redis session", vigilCommand, "/auth", sessionHeaders, vigil);
  const fullName = `(e) Vigil stepup rule, all risk signals, allows logged ${ALLOW_SAMPLE_RATE * 100}%`;
  await run(fullName, vigilCommand, "/auth", full, vigil);
  await run("(e′) same, every allow logged", vigilCommand, "/auth", full, scenario.env(1));

  // Steady load: fresh processes at a fixed 5,000 req/s — the bare server first (the floor of
  // the measurement itself), then the full decision.
  console.log(
    `steady rate: ${FIXED_RATE} req/s (wrk paced, -c${CONNECTIONS}; warm-up ${WARMUP_SECONDS} s closed loop + ${STEADY_WARMUP_SECONDS} s paced)`,
  );
  const steady = async (command: string[], env: Record<string, string> | undefined, seconds: number) => {
    const server = await startServer(command, env, env ? join(dir, "log-steady.ndjson") : undefined);
    const url = `${server.url}/auth`;
    await runWrk({ url, headers: full, seconds: WARMUP_SECONDS, connections: CONNECTIONS, dir });
    const paced = { url, headers: full, connections: CONNECTIONS, rate: FIXED_RATE, dir };
    if (STEADY_WARMUP_SECONDS > 0) await runWrkAtRate({ ...paced, seconds: STEADY_WARMUP_SECONDS });
    const rssStart = rssMiB(server.child.pid);
    resetPeakRss(server.child.pid);
    const stats = env ? await commandStats(redis.port) : undefined;
    const load = await runWrkAtRate({ ...paced, seconds });
    const evalsha = stats
      ? (statsDelta(stats, await commandStats(redis.port)).evalsha ?? 0) / load.requests
      : undefined;
    const rssEnd = rssMiB(server.child.pid);
    const rssPeak = peakRssMiB(server.child.pid);
    await stopProcess(server.child);
    console.log(
      `  ${env ? "(e) full decision" : "(a) bare Bun.serve"}: ${Math.round(load.rps)} req/s, p50 ${ms(load.p50)} ms, p99 ${ms(load.p99)} ms, p99.9 ${ms(load.p999)} ms, max ${ms(load.max)} ms, errors ${load.errors}, RSS ${rssStart.toFixed(0)}→${rssEnd.toFixed(0)} MiB (peak ${rssPeak.toFixed(0)})`,
    );
    return { load, evalsha, rssStart, rssEnd, rssPeak };
  };
  const steadyBare = await steady([process.execPath, "bench/servers/bare.ts"], undefined, 10);
  const steadyFull = await steady(vigilCommand, vigil, FIXED_SECONDS);
  const fixed = steadyFull.load;

  const baseline = rows[0]!;
  const fullRow = rows.find((row) => row.name.startsWith("(e)"))!;
  const fullPeak = Math.max(fullRow.rssPeak, steadyFull.rssPeak);
  const targets = [
    `throughput ${(fullRow.load.rps / baseline.load.rps).toFixed(2)}× bare (target ≥ 0.25×): ${fullRow.load.rps / baseline.load.rps >= 0.25 ? "met" : "NOT met"}`,
    `p99 at ${FIXED_RATE} req/s ${ms(fixed.p99)} ms (target ≤ 2 ms): ${fixed.p99 <= 2 ? "met" : "NOT met"}`,
    `Redis round trips per decision ${fullRow.redis?.roundTrips.toFixed(2)} (target 1): ${fullRow.redis?.roundTrips.toFixed(2) === "1.00" ? "met" : "NOT met"}`,
    `RSS peak ${fullPeak.toFixed(0)} MiB (target ≤ 400, no growth): ${fullPeak <= 400 ? "met" : "NOT met"}`,
  ];
  console.log("\nfull decision (e) against the targets:");
  for (const line of targets) console.log(`  ${line}`);

  const perCommand = Object.entries(fullRow.redis?.perReq ?? {})
    .sort((x, y) => y[1] - x[1])
    .map(([name, value]) => `${name.toUpperCase()} ${value.toFixed(2)}`)
    .join(", ");
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const markdown = `# Benchmark results

Written by \`bun run bench\` (bench/run.ts) on ${date}; ${Math.round((Date.now() - started) / 1000)} s in all.
Do not edit by hand: run the bench again.

## Machine
${machineInfo()
  .map((line) => `- ${line}`)
  .join("\n")}
- ${PINNING ? "Server pinned to core 1 (`taskset -c 1`); wrk and redis-server on core 0" : "No pinning (taskset or a second core missing)"}
- redis-server ${
    Bun.spawnSync(["redis-server", "--version"])
      .stdout.toString()
      .match(/v=(\S+)/)?.[1] ?? "?"
  } on loopback, persistence off

## Closed loop: wrk, ${CONNECTIONS} connections, ${SECONDS} s per case after a ${WARMUP_SECONDS} s warm-up
${markdownTable(rows, baseline)}

- Every server is its own process, started fresh for its case; RSS is VmRSS from /proc at the start and end of the case,
  and the peak is VmHWM over its warm-up and measured run (reset with \`clear_refs\` before the warm-up).
- Vigil runs with its runtime env (src/runtime-tuning.ts: ${Object.entries(RUNTIME_ENV)
    .map(([name, value]) => `\`${name}=${value}\``)
    .join(", ")}), as \`bun start\` and the image start it. (a′) is the bare server with the same env;
  every ratio is against the untuned (a).
- "server CPU µs/req" is the server process's user+system CPU time over the measured run divided by the requests.
- Redis figures come from \`INFO commandstats\` deltas over the measured run divided by the requests;
  "Redis µs/decision" is the usec of the script calls (EVALSHA, EVAL: each includes the commands it ran).
  Round trips count commands sent over the wire (EVALSHA/EVAL); the other commands run inside the Lua script.
  Socket reads are \`INFO stats\` total_reads_processed per decision: below 1 when decisions reach Redis in batches
  (src/adapters/redis/reply-clocked-batcher.ts: one write per batch, each decision still exactly one script call).
  Full decision (e), per request: ${perCommand}.
- (c)–(e′) load a ${listEntries.toLocaleString("en")}-entry reputation list (random CIDRs, \`risk.ip_lists\`), geo on, rate counters on
  (limits above what the bench sends), log level info. (e) samples allows at \`log.allow_sample_rate: ${ALLOW_SAMPLE_RATE}\` (every deny and
  challenge is always logged); (e′) logs every allow. Decision log lines written: ${rows
    .filter((row) => row.note !== undefined)
    .map((row) => `${row.name.slice(0, 4)} ${row.note ?? "?"}`)
    .join("; ")}.
- (e): \`X-Forwarded-For: ${PUBLIC_CLIENT}\` from a trusted proxy (127.0.0.1), a session whose baseline country is the US and whose step-up is fresh.

## Steady load: ${FIXED_RATE.toLocaleString("en")} req/s (wrk paced: each of ${CONNECTIONS} connections waits an exponential gap, mean ${CONNECTIONS}/${FIXED_RATE} s)
| case | seconds | req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | EVALSHA/decision | RSS start → end (peak) MiB |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| (a) bare Bun.serve (the floor of the measurement) | 10 | ${Math.round(steadyBare.load.rps).toLocaleString("en")} | ${ms(steadyBare.load.p50)} | ${ms(steadyBare.load.p99)} | ${ms(steadyBare.load.p999)} | ${ms(steadyBare.load.max)} | ${steadyBare.load.errors} | — | ${steadyBare.rssStart.toFixed(0)} → ${steadyBare.rssEnd.toFixed(0)} (${steadyBare.rssPeak.toFixed(0)}) |
| (e) full decision | ${FIXED_SECONDS} | ${Math.round(fixed.rps).toLocaleString("en")} | ${ms(fixed.p50)} | ${ms(fixed.p99)} | ${ms(fixed.p999)} | ${ms(fixed.max)} | ${fixed.errors} | ${steadyFull.evalsha?.toFixed(2)} | ${steadyFull.rssStart.toFixed(0)} → ${steadyFull.rssEnd.toFixed(0)} (${steadyFull.rssPeak.toFixed(0)}) |

Each server first runs ${WARMUP_SECONDS} s closed loop and ${STEADY_WARMUP_SECONDS} s at the steady rate (not measured):
under a new load shape JSC recompiles the socket and stream code on the same core, which is
warm-up, not the steady state (docs/performance.md).

Latency is measured by wrk from each request's send; a paced connection does not send while it
waits for an answer, so a long stall is under-counted (coordinated omission) — at these latencies
(a gap of ${(CONNECTIONS * 1000) / FIXED_RATE} ms against answers well under 1 ms) the effect is small.

## Targets (issue #7), full decision (e)
${targets.map((line) => `- ${line}`).join("\n")}

## Reproduce
\`\`\`sh
apt-get install wrk redis-server   # Debian packages
bun install
bun run bench                      # BENCH_SECONDS=8 BENCH_CONNECTIONS=50 BENCH_FIXED_SECONDS=20
\`\`\`
Load generator command per case: \`${commands[0] ?? ""}\` (the Lua script sets the forwardAuth headers).
Steady rate: \`${fixed.command.replace("wrk", "wrk (Lua delay() pacing)")}\`.
`;
  const resultsPath = join(import.meta.dir, "RESULTS.md");
  writeFileSync(resultsPath, markdown);
  // `bun run check` formats bench/ too: leave the file as biome would.
  const biome = join(ROOT, "node_modules", ".bin", "biome");
  if (await Bun.file(biome).exists())
    Bun.spawnSync([biome, "format", "--write", resultsPath], { stdout: "ignore", stderr: "ignore" });
  console.log(`\nwrote bench/RESULTS.md (${Math.round((Date.now() - started) / 1000)} s)`);
}

try {
  await main();
} finally {
  for (const child of spawned) await stopProcess(child);
  rmSync(dir, { recursive: true, force: true });
}
