/**
 * CPU profile of one Vigil case under wrk load: `bun bench/profile.ts [bypass|session|full] [seconds]`.
 * Writes a markdown CPU profile (bun --cpu-prof-md) to $TMPDIR/vigil-profiles/ and prints
 * the throughput. Loopback only; same pinning and scenario as bench/run.ts.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, LOOPBACK, pinned, SERVER_CORE, spawnRedis, stopProcess, waitForHttp } from "./lib.ts";
import { runWrk } from "./load.ts";
import { prepareScenario } from "./scenario.ts";

const which = (process.argv[2] ?? "full") as "bypass" | "session" | "full";
const seconds = Number(process.argv[3] ?? 8);
const sampleRate = Number(process.env.BENCH_ALLOW_SAMPLE_RATE ?? 0.01);
const dir = mkdtempSync(join(tmpdir(), "vigil-profile-"));
const out = join(tmpdir(), "vigil-profiles");
mkdirSync(out, { recursive: true });
const redis = await spawnRedis(dir);
try {
  const scenario = await prepareScenario(dir, redis.url);
  const port = await freePort();
  const name = `${which}-${Date.now()}.md`;
  const child = Bun.spawn(
    pinned(SERVER_CORE, [
      process.execPath,
      "--cpu-prof-md",
      `--cpu-prof-dir=${out}`,
      `--cpu-prof-name=${name}`,
      "src/main.ts",
    ]),
    {
      cwd: join(import.meta.dir, ".."),
      env: { ...process.env, ...scenario.env(sampleRate), VIGIL_PORT: String(port) },
      stdout: "ignore",
      stderr: "inherit",
    },
  );
  const url = `http://${LOOPBACK}:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  const result = await runWrk({
    url: `${url}/auth`,
    headers: scenario.headers[which],
    seconds,
    connections: 50,
    dir,
  });
  console.log(
    `${which}: ${Math.round(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}`,
  );
  child.kill("SIGINT");
  await child.exited;
  console.log(`profile: ${join(out, name)}`);
  await stopProcess(child);
} finally {
  await stopProcess(redis.child);
  rmSync(dir, { recursive: true, force: true });
}
