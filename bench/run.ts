/**
 * `bun run bench`: Vigil's /auth side by side with a bare Bun.serve and Hono, in one run, on
 * loopback. Every server is its own process pinned to core 1 (taskset); wrk and
 * redis-server run on core 0. Prints a table and writes bench/RESULTS.md.
 *
 * Cases: (a) bare Bun.serve 200, (b) Hono 200, (c) Vigil bypass rule, (d) Vigil authenticated rule
 * with a Redis session, (e) Vigil stepup rule, fresh step-up, every risk signal on (100k-entry IP
 * list, geo on a public X-Forwarded-For with a same-country session, rate counters, decision log),
 * then (e) again with every allow logged, (f) the floor: a Bun.serve that makes the one EVALSHA
 * through Vigil's Redis adapter and nothing else, and (a), (f) and (e) at a steady 5,000 req/s
 * (wrk paced by a Lua delay()) for the steady-load p99. Then the Traefik section (bench/edge.ts):
 * the same requests through a real Traefik with no auth, with forwardAuth to Vigil, and with
 * forwardAuth to oauth2-proxy, side by side.
 *
 * The steady cases warm up twice: closed loop (the JIT reaches its top tier), then at the steady
 * rate itself (BENCH_STEADY_WARMUP_SECONDS, default 10): a new load shape makes JSC recompile the
 * stream and socket code it runs, on the same core, and those compiles are not the steady state
 * (docs/performance.md, "The p99 tail").
 *
 * Environment: BENCH_SECONDS (default 8 per case), BENCH_CONNECTIONS (50),
 * BENCH_FIXED_SECONDS (20), BENCH_STEADY_WARMUP_SECONDS (10), BENCH_EDGE_RATE (500),
 * BENCH_EDGE=0 skips the Traefik section (it needs tools/build.sh's Traefik and oauth2-proxy).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { RUNTIME_ENV } from "../src/runtime-tuning.ts";
import { pinnedTraefikVersion } from "../test/helpers/traefik.ts";
import { EDGE_HEADER, type EdgeRow, edgeMarkdown, OAUTH2_PROXY_VERSION, runEdgeSection } from "./edge.ts";
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
import { PUBLIC_CLIENT, prepareScenario, USER_AGENT } from "./scenario.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = 2;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const FIXED_RATE = 5_000;
const FIXED_SECONDS = Number(process.env.BENCH_FIXED_SECONDS ?? 20);
const STEADY_WARMUP_SECONDS = Number(process.env.BENCH_STEADY_WARMUP_SECONDS ?? 10);
const ALLOW_SAMPLE_RATE = 0.01;
const EDGE = process.env.BENCH_EDGE !== "0";
const EDGE_RATE = Number(process.env.BENCH_EDGE_RATE ?? 500);
const ROOT = join(import.meta.dir, "..");

interface Row {
  name: string;
  load: LoadResult;
  cpuUsPerReq: number;
  /** redis-server's CPU per request over the measured run (cases that use Redis). */
  redisCpuUsPerReq?: number;
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
  redisPid?: number,
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
  const redisCpuBefore = redisPid === undefined ? 0 : cpuMicros(redisPid);
  const load = await runWrk({ url, headers, seconds: SECONDS, connections: CONNECTIONS, dir });
  const cpu = cpuMicros(server.child.pid) - cpuBefore;
  const redisCpuUsPerReq =
    redisPid === undefined ? undefined : (cpuMicros(redisPid) - redisCpuBefore) / load.requests;
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
  const row: Row = {
    name,
    load,
    cpuUsPerReq: cpu / load.requests,
    redisCpuUsPerReq,
    rssStart,
    rssEnd,
    rssPeak,
    redis,
  };
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
    (row.redisCpuUsPerReq === undefined ? "-" : row.redisCpuUsPerReq.toFixed(1)).padStart(6),
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
  "redis".padStart(6),
  "Redis/decision".padStart(36),
  "RSS MiB (peak)".padStart(15),
  "errors".padStart(6),
].join(" ");

function markdownTable(rows: Row[], baseline: Row): string {
  const lines = [
    "| case | req/s | × bare | p50 ms | p99 ms | p99.9 ms | server CPU µs/req | redis-server CPU µs/req | Redis µs/decision | Redis round trips/decision | Redis commands/decision (incl. inside Lua) | Redis socket reads/decision | RSS start → end (peak) MiB | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.name} | ${Math.round(row.load.rps).toLocaleString("en")} | ${(row.load.rps / baseline.load.rps).toFixed(2)} | ${ms(row.load.p50)} | ${ms(row.load.p99)} | ${ms(row.load.p999)} | ${row.cpuUsPerReq.toFixed(1)} | ${row.redisCpuUsPerReq === undefined ? "—" : row.redisCpuUsPerReq.toFixed(1)} | ${row.redis ? row.redis.usPerDecision.toFixed(1) : "—"} | ${row.redis ? `${row.redis.roundTrips.toFixed(2)} (EVALSHA ${row.redis.evalsha.toFixed(2)})` : "—"} | ${row.redis ? row.redis.commands.toFixed(1) : "—"} | ${row.redis ? row.redis.reads.toFixed(2) : "—"} | ${row.rssStart.toFixed(0)} → ${row.rssEnd.toFixed(0)} (${row.rssPeak.toFixed(0)}) | ${row.load.errors} |`,
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
    usesRedis = env !== undefined,
  ) => {
    const logFile = env ? join(dir, `log-${rows.length}.ndjson`) : undefined;
    const server = await startServer(command, { ...serverEnv, ...env }, logFile);
    const row = await measure(
      name,
      server,
      path,
      headers,
      usesRedis ? redis.port : undefined,
      usesRedis ? redis.child.pid : undefined,
    );
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
  const floorCommand = [process.execPath, "bench/servers/floor.ts"];
  const floorEnv = { REDIS_URL: redis.url };
  await run(
    "(f) floor: headers + the one EVALSHA, no decision",
    floorCommand,
    "/auth",
    full,
    undefined,
    floorEnv,
    true,
  );

  // Steady load: fresh processes at a fixed 5,000 req/s — the bare server first (the floor of
  // the measurement itself), then the full decision.
  console.log(
    `steady rate: ${FIXED_RATE} req/s (wrk paced, -c${CONNECTIONS}; warm-up ${WARMUP_SECONDS} s closed loop + ${STEADY_WARMUP_SECONDS} s paced)`,
  );
  const steady = async (
    label: string,
    command: string[],
    env: Record<string, string> | undefined,
    seconds: number,
    usesRedis = env !== undefined,
  ) => {
    const server = await startServer(command, env, env ? join(dir, "log-steady.ndjson") : undefined);
    const url = `${server.url}/auth`;
    await runWrk({ url, headers: full, seconds: WARMUP_SECONDS, connections: CONNECTIONS, dir });
    const paced = { url, headers: full, connections: CONNECTIONS, rate: FIXED_RATE, dir };
    if (STEADY_WARMUP_SECONDS > 0) await runWrkAtRate({ ...paced, seconds: STEADY_WARMUP_SECONDS });
    const rssStart = rssMiB(server.child.pid);
    resetPeakRss(server.child.pid);
    const stats = usesRedis ? await commandStats(redis.port) : undefined;
    const load = await runWrkAtRate({ ...paced, seconds });
    const evalsha = stats
      ? (statsDelta(stats, await commandStats(redis.port)).evalsha ?? 0) / load.requests
      : undefined;
    const rssEnd = rssMiB(server.child.pid);
    const rssPeak = peakRssMiB(server.child.pid);
    await stopProcess(server.child);
    console.log(
      `  ${label}: ${Math.round(load.rps)} req/s, p50 ${ms(load.p50)} ms, p99 ${ms(load.p99)} ms, p99.9 ${ms(load.p999)} ms, max ${ms(load.max)} ms, errors ${load.errors}, RSS ${rssStart.toFixed(0)}→${rssEnd.toFixed(0)} MiB (peak ${rssPeak.toFixed(0)})`,
    );
    return { load, evalsha, rssStart, rssEnd, rssPeak };
  };
  const steadyBare = await steady(
    "(a) bare Bun.serve",
    [process.execPath, "bench/servers/bare.ts"],
    undefined,
    10,
  );
  const steadyFloor = await steady("(f) floor", floorCommand, floorEnv, FIXED_SECONDS, true);
  const steadyFull = await steady("(e) full decision", vigilCommand, vigil, FIXED_SECONDS);
  const fixed = steadyFull.load;

  let edgeRows: EdgeRow[] = [];
  if (EDGE) {
    console.log(
      `\nthrough Traefik ${pinnedTraefikVersion()}: saturation (wrk -c${CONNECTIONS}), then ${EDGE_RATE} req/s paced; CPU µs per request per process`,
    );
    console.log(EDGE_HEADER);
    edgeRows = await runEdgeSection({
      dir,
      root: ROOT,
      redis,
      vigilEnv: vigil,
      tokens: scenario.tokens,
      userAgent: USER_AGENT,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      connections: CONNECTIONS,
      rate: EDGE_RATE,
      rateSeconds: FIXED_SECONDS,
      spawned,
    });
  }

  const baseline = rows[0]!;
  const fullRow = rows.find((row) => row.name.startsWith("(e)"))!;
  const floorRow = rows.find((row) => row.name.startsWith("(f)"))!;
  const fullPeak = Math.max(fullRow.rssPeak, steadyFull.rssPeak);
  const met = (ok: boolean) => (ok ? "met" : "NOT met");
  const targets = [
    `throughput ${(fullRow.load.rps / baseline.load.rps).toFixed(2)}× bare (target ≥ 0.35×): ${met(fullRow.load.rps / baseline.load.rps >= 0.35)}`,
    `throughput ${(fullRow.load.rps / floorRow.load.rps).toFixed(2)}× the floor (target ≥ 0.9×): ${met(fullRow.load.rps / floorRow.load.rps >= 0.9)}`,
    `p99 at ${FIXED_RATE} req/s ${ms(fixed.p99)} ms, ${(fixed.p99 / steadyFloor.load.p99).toFixed(2)}× the floor's ${ms(steadyFloor.load.p99)} ms (target ≤ 1.5×): ${met(fixed.p99 <= 1.5 * steadyFloor.load.p99)}`,
    `Redis round trips per decision ${fullRow.redis?.roundTrips.toFixed(2)} (target 1): ${fullRow.redis?.roundTrips.toFixed(2) === "1.00" ? "met" : "NOT met"}`,
    `RSS peak ${fullPeak.toFixed(0)} MiB (target ≤ 400, no growth): ${fullPeak <= 400 ? "met" : "NOT met"}`,
  ];
  const edgeVigil = edgeRows.find((row) => row.name.includes("Vigil, authenticated"));
  const edgeOauth2Proxy = edgeRows.find((row) => row.name.includes("oauth2-proxy"));
  const edgeNoAuth = edgeRows[0];
  if (edgeVigil && edgeOauth2Proxy && edgeNoAuth) {
    const added = (row: EdgeRow, field: "p50" | "p99") => row.steady[field] - edgeNoAuth.steady[field];
    targets.push(
      `through Traefik, Vigil (authenticated rule) adds p50 ${ms(added(edgeVigil, "p50"))} / p99 ${ms(added(edgeVigil, "p99"))} ms, oauth2-proxy ${ms(added(edgeOauth2Proxy, "p50"))} / ${ms(added(edgeOauth2Proxy, "p99"))} ms (target: Vigil at or below): ${met(added(edgeVigil, "p50") <= added(edgeOauth2Proxy, "p50") && added(edgeVigil, "p99") <= added(edgeOauth2Proxy, "p99"))}`,
      `through Traefik at saturation, Vigil ${Math.round(edgeVigil.saturated.rps)} req/s, oauth2-proxy ${Math.round(edgeOauth2Proxy.saturated.rps)} req/s, ${(edgeVigil.saturated.rps / edgeOauth2Proxy.saturated.rps).toFixed(2)}× (target ≥ 1×): ${met(edgeVigil.saturated.rps >= edgeOauth2Proxy.saturated.rps)}`,
    );
  }
  console.log("\nagainst the targets:");
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
| (f) floor: headers + the one EVALSHA | ${FIXED_SECONDS} | ${Math.round(steadyFloor.load.rps).toLocaleString("en")} | ${ms(steadyFloor.load.p50)} | ${ms(steadyFloor.load.p99)} | ${ms(steadyFloor.load.p999)} | ${ms(steadyFloor.load.max)} | ${steadyFloor.load.errors} | ${steadyFloor.evalsha?.toFixed(2)} | ${steadyFloor.rssStart.toFixed(0)} → ${steadyFloor.rssEnd.toFixed(0)} (${steadyFloor.rssPeak.toFixed(0)}) |
| (e) full decision | ${FIXED_SECONDS} | ${Math.round(fixed.rps).toLocaleString("en")} | ${ms(fixed.p50)} | ${ms(fixed.p99)} | ${ms(fixed.p999)} | ${ms(fixed.max)} | ${fixed.errors} | ${steadyFull.evalsha?.toFixed(2)} | ${steadyFull.rssStart.toFixed(0)} → ${steadyFull.rssEnd.toFixed(0)} (${steadyFull.rssPeak.toFixed(0)}) |

Each server first runs ${WARMUP_SECONDS} s closed loop and ${STEADY_WARMUP_SECONDS} s at the steady rate (not measured):
under a new load shape JSC recompiles the socket and stream code on the same core, which is
warm-up, not the steady state (docs/performance.md).

Latency is measured by wrk from each request's send; a paced connection does not send while it
waits for an answer, so a long stall is under-counted (coordinated omission) — at these latencies
(a gap of ${(CONNECTIONS * 1000) / FIXED_RATE} ms against answers well under 1 ms) the effect is small.

${
  edgeRows.length > 0
    ? `## Through Traefik ${pinnedTraefikVersion()}: no auth, forwardAuth → Vigil, forwardAuth → oauth2-proxy ${OAUTH2_PROXY_VERSION}
${edgeMarkdown(edgeRows, EDGE_RATE)}

- Saturation: wrk -c${CONNECTIONS} closed loop for ${SECONDS} s after ${WARMUP_SECONDS} s, through Traefik's plain-HTTP entry point (bench/edge.ts).
  Latency: ${EDGE_RATE.toLocaleString("en")} req/s paced for ${FIXED_SECONDS} s after ${WARMUP_SECONDS} s; "added" is the case's p50/p99 less the no-auth route's at that rate.
- Traefik and the auth server share the server core; wrk, Redis and the upstream app (a bare Bun.serve) the load core.
  CPU columns: each process's user+system time over the closed-loop run divided by the requests.
- Vigil: the same process and config as (e), middlewares as traefik/dynamic/vigil.yml (trustForwardHeader false); the
  full-decision route uses trustForwardHeader true behind an entry point that trusts wrk's address, so the public
  client address (${PUBLIC_CLIENT}) reaches Vigil as through a load balancer in front of Traefik.
- oauth2-proxy: OIDC provider against an oidc-provider IdP (bench/oidc-idp.ts), \`--session-store-type=redis\` on the
  same Redis, \`--set-xauthrequest\`, request logging off; its session cookie comes from a real sign-in in Chromium
  (login and consent pages), and every /oauth2/auth loads the session from Redis.
`
    : "## Through Traefik\nSkipped (BENCH_EDGE=0).\n"
}
## Targets, full decision (e) and the Traefik section
${targets.map((line) => `- ${line}`).join("\n")}

## Reproduce
\`\`\`sh
apt-get install wrk redis-server chromium   # Debian packages
bun install
tools/build.sh                     # Traefik and oauth2-proxy from their Go modules (Go >= 1.26)
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
