/**
 * `bun bench/compare.ts <git revision> [samples]`: this checkout against another revision, side by
 * side in one run: server CPU per request and req/s of the bypass, session and full-decision
 * cases, each tree with its own bench scenario, key layout and runtime env, the two alternating
 * sample by sample so a noisy machine weighs on both alike. Prints medians and the ratio.
 * The revision is checked out into a temporary git worktree (dependencies installed there) and
 * removed afterwards. Same pinning as bench/run.ts: the server on core 1, wrk and Redis on core 0.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const revision = process.argv[2];
if (!revision) {
  console.error("usage: bun bench/compare.ts <git revision> [samples]");
  process.exit(2);
}
const SAMPLES = Number(process.argv[3] ?? 5);
const WARM_SECONDS = Number(process.env.BENCH_WARM_SECONDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CASES = ["bypass", "session", "full"] as const;
type Case = (typeof CASES)[number];

const here = resolve(import.meta.dir, "..");
const run = (command: string[], cwd: string) => {
  const result = Bun.spawnSync(command, { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")}: ${result.stderr.toString().trim()}`);
  return result.stdout.toString().trim();
};
const sha = run(["git", "rev-parse", "--short", revision], here);
const other = mkdtempSync(join(tmpdir(), `vigil-compare-${sha}-`));
rmSync(other, { recursive: true, force: true });
run(["git", "worktree", "add", "--detach", other, sha], here);

/** One sample: a fresh Redis and server of `root`, warmed, then measured under wrk. */
async function sample(root: string, which: Case): Promise<{ rps: number; cpu: number }> {
  const lib = await import(join(root, "bench/lib.ts"));
  const { runWrk } = await import(join(root, "bench/load.ts"));
  const { prepareScenario } = await import(join(root, "bench/scenario.ts"));
  const { RUNTIME_ENV } = await import(join(root, "src/runtime-tuning.ts"));
  const dir = mkdtempSync(join(tmpdir(), "vigil-compare-run-"));
  const redis = await lib.spawnRedis(dir);
  try {
    const scenario = await prepareScenario(dir, redis.url);
    const port = await lib.freePort();
    const child = Bun.spawn(lib.pinned(lib.SERVER_CORE, [process.execPath, "src/main.ts"]), {
      cwd: root,
      env: { ...process.env, ...RUNTIME_ENV, ...scenario.env(0.01), VIGIL_PORT: String(port) },
      stdout: "ignore",
      stderr: "ignore",
    });
    try {
      const url = `http://${lib.LOOPBACK}:${port}/auth`;
      await lib.waitForHttp(`http://${lib.LOOPBACK}:${port}/healthz`, child);
      const load = { url, headers: scenario.headers[which], connections: 50, dir };
      await runWrk({ ...load, seconds: WARM_SECONDS });
      const before = lib.cpuMicros(child.pid);
      const result = await runWrk({ ...load, seconds: SECONDS });
      const requests = result.rps * SECONDS;
      return { rps: result.rps, cpu: (lib.cpuMicros(child.pid) - before) / requests };
    } finally {
      await lib.stopProcess(child);
    }
  } finally {
    await lib.stopProcess(redis.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

try {
  run(["bun", "install", "--frozen-lockfile"], other);
  const rows: string[] = [];
  for (const which of CASES) {
    const ours: { rps: number; cpu: number }[] = [];
    const theirs: { rps: number; cpu: number }[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      // Alternate which tree goes first, so a drift in the machine does not favour one.
      const order = i % 2 === 0 ? [here, other] : [other, here];
      for (const root of order) (root === here ? ours : theirs).push(await sample(root, which));
    }
    const [cpuOurs, cpuTheirs] = [median(ours.map((s) => s.cpu)), median(theirs.map((s) => s.cpu))];
    const [rpsOurs, rpsTheirs] = [median(ours.map((s) => s.rps)), median(theirs.map((s) => s.rps))];
    const spread = (samples: { cpu: number }[]) => samples.map((s) => s.cpu.toFixed(1)).join(" ");
    console.log(`${which}: ${sha} µs/req ${spread(theirs)}; this ${spread(ours)}`);
    const line = `| ${which} | ${cpuTheirs.toFixed(1)} | ${cpuOurs.toFixed(1)} | ${(cpuOurs / cpuTheirs).toFixed(2)} | ${Math.round(rpsTheirs).toLocaleString("en")} | ${Math.round(rpsOurs).toLocaleString("en")} |`;
    console.log(line);
    rows.push(line);
  }
  console.log(
    `\n${SAMPLES} samples of ${SECONDS} s per tree and case (medians); ${sha} = the revision, this = the checkout\n`,
  );
  console.log(`| case | ${sha} CPU µs/req | this CPU µs/req | this ÷ ${sha} | ${sha} req/s | this req/s |`);
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) console.log(row);
} finally {
  run(["git", "worktree", "remove", "--force", other], here);
}
