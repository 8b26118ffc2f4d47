/**
 * The steady-load tail, quickly: `bun bench/steady.ts [bypass|session|full] [seconds] [runs]`.
 * Starts a throwaway redis-server and a fresh Vigil (same pinning and scenario as bench/run.ts),
 * then per run: a 2 s closed-loop warm-up, a paced warm-up at the same rate
 * (BENCH_STEADY_WARMUP_SECONDS, default 10; see bench/run.ts for why) and wrk paced at 5,000 req/s
 * (BENCH_RATE) for the given seconds (default 10). Prints p50/p99/p99.9, server CPU µs per request, and with
 * BENCH_LOG_GC=1 the Eden (and full) collections JSC logged during the paced run
 * (BUN_JSC_logGC=1 on the server). BENCH_RATE=0 runs wrk closed loop instead (throughput).
 * Ends with the medians when runs > 1. Loopback only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cpuMicros,
  freePort,
  LOOPBACK,
  pinned,
  SERVER_CORE,
  spawnRedis,
  stopProcess,
  waitForHttp,
} from "./lib.ts";
import { runWrk, runWrkAtRate } from "./load.ts";
import { prepareScenario } from "./scenario.ts";

const which = (process.argv[2] ?? "full") as "bypass" | "session" | "full";
const seconds = Number(process.argv[3] ?? 10);
const runs = Number(process.argv[4] ?? 1);
const rate = Number(process.env.BENCH_RATE ?? 5_000);
const logGc = process.env.BENCH_LOG_GC === "1";
const steadyWarmupSeconds = Number(process.env.BENCH_STEADY_WARMUP_SECONDS ?? 10);
const connections = 50;
const dir = mkdtempSync(join(tmpdir(), "vigil-steady-"));
const redis = await spawnRedis(dir);

/** Counts JSC's GC log lines ("[GC<…>: START EdenCollection …]") arriving on a stream. */
function gcCounter(stream: ReadableStream<Uint8Array>) {
  const counts = { eden: 0, full: 0 };
  let counting = false;
  let carry = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const lines = (carry + decoder.decode(chunk, { stream: true })).split("\n");
      carry = lines.pop() ?? "";
      if (!counting) continue;
      for (const line of lines) {
        if (!line.includes("START")) continue;
        if (line.includes("Eden")) counts.eden++;
        else if (line.includes("Full")) counts.full++;
      }
    }
  })();
  return {
    start() {
      counts.eden = 0;
      counts.full = 0;
      counting = true;
    },
    stop() {
      counting = false;
      return { ...counts };
    },
  };
}

interface Sample {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  rps: number;
  cpuUs: number;
  errors: number;
  eden?: number;
  full?: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ms = (value: number) => value.toFixed(2);

try {
  const scenario = await prepareScenario(dir, redis.url);
  const samples: Sample[] = [];
  for (let run = 1; run <= runs; run++) {
    const port = await freePort();
    const child = Bun.spawn(pinned(SERVER_CORE, [process.execPath, "src/main.ts"]), {
      cwd: join(import.meta.dir, ".."),
      env: {
        ...process.env,
        ...scenario.env(0.01),
        VIGIL_PORT: String(port),
        ...(logGc ? { BUN_JSC_logGC: "1" } : {}),
      },
      stdout: "ignore",
      stderr: logGc ? "pipe" : "inherit",
    });
    const gc = logGc ? gcCounter(child.stderr as ReadableStream<Uint8Array>) : undefined;
    try {
      const url = `http://${LOOPBACK}:${port}`;
      await waitForHttp(`${url}/healthz`, child);
      const headers = scenario.headers[which];
      const probe = await fetch(`${url}/auth`, { headers, redirect: "manual" });
      if (probe.status !== 200) throw new Error(`expected 200, got ${probe.status} ${await probe.text()}`);
      const target = { url: `${url}/auth`, headers, connections, dir };
      await runWrk({ ...target, seconds: 2 });
      if (rate > 0 && steadyWarmupSeconds > 0)
        await runWrkAtRate({ ...target, rate, seconds: steadyWarmupSeconds });
      gc?.start();
      const cpuBefore = cpuMicros(child.pid);
      const load =
        rate > 0 ? await runWrkAtRate({ ...target, rate, seconds }) : await runWrk({ ...target, seconds });
      const cpuUs = (cpuMicros(child.pid) - cpuBefore) / load.requests;
      const counts = gc?.stop();
      const sample: Sample = { ...load, cpuUs, ...(counts ?? {}) };
      samples.push(sample);
      console.log(
        `${which} run ${run}: ${Math.round(load.rps)} req/s, p50 ${ms(load.p50)} ms, p99 ${ms(load.p99)} ms, ` +
          `p99.9 ${ms(load.p999)} ms, max ${ms(load.max)} ms, CPU ${cpuUs.toFixed(1)} µs/req, errors ${load.errors}` +
          (counts ? `, GC eden ${(counts.eden / load.seconds).toFixed(1)}/s full ${counts.full}` : ""),
      );
    } finally {
      await stopProcess(child);
    }
  }
  if (samples.length > 1) {
    const pick = (key: keyof Sample) => median(samples.map((s) => s[key] ?? Number.NaN));
    console.log(
      `${which} median of ${samples.length}: ${Math.round(pick("rps"))} req/s, p50 ${ms(pick("p50"))} ms, p99 ${ms(pick("p99"))} ms, ` +
        `p99.9 ${ms(pick("p999"))} ms, CPU ${pick("cpuUs").toFixed(1)} µs/req` +
        (logGc ? `, GC eden ${pick("eden")} per run` : ""),
    );
  }
} finally {
  await stopProcess(redis.child);
  rmSync(dir, { recursive: true, force: true });
}
