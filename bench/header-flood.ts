/**
 * `bun bench/header-flood.ts`: the resident memory of a Vigil process (main.ts, Redis store,
 * runtime env as `bun start` sets it) under a flood of anonymous /auth requests, each with a
 * unique large header value (User-Agent by default): a memory figure, not a speed one. Prints RSS
 * before, peak (VmHWM) and after, and how the requests were answered.
 *
 * Environment: FLOOD_REQUESTS (default 60000), FLOOD_BYTES (6144), FLOOD_CONCURRENCY (64),
 * FLOOD_HEADER (user-agent, or cookie, accept, x-forwarded-uri).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RUNTIME_ENV } from "../src/runtime-tuning.ts";
import {
  freePort,
  LOOPBACK,
  peakRssMiB,
  resetPeakRss,
  rssMiB,
  spawnRedis,
  stopProcess,
  waitForHttp,
} from "./lib.ts";

const REQUESTS = Number(process.env.FLOOD_REQUESTS ?? 60_000);
const BYTES = Number(process.env.FLOOD_BYTES ?? 6144);
const HEADER = process.env.FLOOD_HEADER ?? "user-agent";
const CONCURRENCY = Number(process.env.FLOOD_CONCURRENCY ?? 64);

const dir = mkdtempSync(join(tmpdir(), "vigil-header-flood-"));
const redis = await spawnRedis(dir);
const port = await freePort();
const vigil = Bun.spawn([process.execPath, "src/main.ts"], {
  cwd: join(import.meta.dir, ".."),
  env: {
    ...process.env,
    ...RUNTIME_ENV,
    VIGIL_PORT: String(port),
    REDIS_URL: redis.url,
    VIGIL_LOG_LEVEL: "warn",
  },
  stdout: "ignore",
  stderr: "inherit",
});
const url = `http://${LOOPBACK}:${port}`;
try {
  await waitForHttp(`${url}/readyz`, vigil);
  // Warm up with small requests so the baseline is a running server, not a cold one.
  for (let i = 0; i < 2000; i++) await fetch(`${url}/auth`, { headers: headers("warm-up", "") });
  await Bun.sleep(500);
  const before = rssMiB(vigil.pid);
  resetPeakRss(vigil.pid);

  const statuses = new Map<number, number>();
  const filler = "x".repeat(BYTES);
  let next = 0;
  async function worker() {
    while (next < REQUESTS) {
      const i = next++;
      // Unique per request: a prefix that differs, then the bulk.
      const value = `${HEADER === "x-forwarded-uri" ? "/" : "a="}${i.toString(36)}${filler}`.slice(0, BYTES);
      const status = await fetch(`${url}/auth`, {
        headers: headers(`Mozilla/5.0 (${i.toString(36)})`, value),
      })
        .then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        })
        .catch(() => 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const peak = peakRssMiB(vigil.pid);
  const after = rssMiB(vigil.pid);
  await Bun.sleep(5000);
  const settled = rssMiB(vigil.pid);
  const answers = [...statuses]
    .map(([status, count]) => `${status === 0 ? "error" : status}×${count}`)
    .join(", ");
  console.log(
    `${REQUESTS} anonymous /auth, unique ${BYTES}-byte ${HEADER}, ${CONCURRENCY} at a time, ${seconds.toFixed(1)} s: ` +
      `RSS ${before.toFixed(0)} MiB before → peak ${peak.toFixed(0)} MiB, ${after.toFixed(0)} MiB at the end, ` +
      `${settled.toFixed(0)} MiB 5 s later; answers ${answers}`,
  );
} finally {
  await stopProcess(vigil);
  await stopProcess(redis.child);
  rmSync(dir, { recursive: true, force: true });
}

/** A forwardAuth request with `value` in the flooded header (a unique User-Agent either way). */
function headers(userAgent: string, value: string): Record<string, string> {
  const base: Record<string, string> = {
    "x-forwarded-method": "GET",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "app.localhost",
    "x-forwarded-uri": "/reports",
    accept: "application/json",
    "user-agent": userAgent,
  };
  if (value !== "") base[HEADER] = value;
  return base;
}
