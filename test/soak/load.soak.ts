/**
 * A bounded loopback load test: 60 s at a steady 800 req/s (open loop, bench/open-loop.ts) against
 * a real Vigil process with a real Redis, on an authenticated rule with a session. Every answer
 * must be 200, and the process must not grow: the RSS average of the last quarter stays within
 * 50 MiB of the first quarter's (after a warm-up). Not part of `bun test`: run it with
 * `bun run test:soak` (.ci/run does, after the suite).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLoop } from "../../bench/open-loop.ts";
import { forwardHeaders } from "../helpers/forward-headers.ts";
import { type RedisHandle, startRedis, storesOn } from "../helpers/redis-server.ts";
import { signIn } from "../helpers/vigil.ts";
import { rssMiB, spawnConfiguredVigil, type VigilProcess } from "../helpers/vigil-process.ts";

const RATE = 800;
const SECONDS = 60;
const WARMUP_SECONDS = 5;
const GROWTH_LIMIT_MIB = 50;

let dir: string;
let redis: RedisHandle;
let vigil: VigilProcess;
let headers: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vigil-load-"));
  const policyPath = join(dir, "policy.yaml");
  writeFileSync(
    policyPath,
    `rules:\n  - { name: app, hosts: ["app.example.com"], action: authenticated }\ndefault: deny\n`,
  );
  redis = await startRedis({ own: true });
  const { stores, close } = await storesOn(redis.url);
  const { token } = await signIn(stores, { id: "loader" }, Date.now(), { amr: ["hwk"], ip: "198.51.100.23" });
  close();
  headers = forwardHeaders("/app/page", { Cookie: `vigil_session=${token}` });
  const high = "{ session: 1000000000, user: 1000000000, ip: 1000000000 }";
  vigil = await spawnConfiguredVigil({
    dir,
    redisUrl: redis.url,
    policyPath,
    config: `public_url: http://auth.localhost\nlog: { level: info, allow_sample_rate: 0.01 }\nrisk: { rate: { soft: ${high}, hard: ${high} } }\n`,
  });
}, 30_000);

afterAll(async () => {
  await vigil?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  `${SECONDS} s at ${RATE} req/s: every answer 200, no memory growth`,
  async () => {
    const url = `${vigil.url}/auth`;
    // Warm-up at the same rate (JIT, pools, first allocations), not measured.
    const warm = await openLoop({ url, headers, rate: RATE, seconds: WARMUP_SECONDS });
    expect(warm.errors).toBe(0);

    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await rssMiB(vigil.pid));
        await Bun.sleep(1_000);
      }
    })();
    const result = await openLoop({ url, headers, rate: RATE, seconds: SECONDS });
    sampling = false;
    await sampler;

    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const first = mean(samples.slice(0, quarter));
    const last = mean(samples.slice(-quarter));
    console.log(
      `load: ${result.requests} requests in ${result.seconds.toFixed(1)} s (${Math.round(result.requests / result.seconds)} req/s), ` +
        `statuses ${JSON.stringify(result.statuses)}, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ` +
        `max ${result.max.toFixed(1)} ms; RSS first quarter ${first.toFixed(1)} MiB, last quarter ${last.toFixed(1)} MiB, ` +
        `min ${Math.min(...samples).toFixed(1)}, max ${Math.max(...samples).toFixed(1)} MiB`,
    );
    expect(result.requests).toBe(RATE * SECONDS);
    expect(result.errors).toBe(0);
    expect(result.statuses).toEqual({ 200: RATE * SECONDS });
    expect(last - first).toBeLessThan(GROWTH_LIMIT_MIB);
  },
  (SECONDS + WARMUP_SECONDS + 40) * 1000,
);
