/**
 * CPU per decision of the forwardAuth handler alone, in process: `bun bench/decision-cpu.ts [calls]`.
 * The handler runs on the memory store (no socket, no Redis), so the figure is the decision path's
 * own work: parsing, routing, identity, risk, decide() and the response. Each case is warmed up,
 * then timed with process.cpuUsage(); the best of five runs is printed. Compare two builds of the
 * code on one machine, one after the other: the absolute figure depends on the machine.
 */

import { lookupGeo } from "../src/adapters/geo/geoip.ts";
import { createMemoryStores } from "../src/adapters/memory/index.ts";
import { resolveConfig } from "../src/config/load.ts";
import { createForwardAuthHandler } from "../src/http/forward-auth/handler.ts";
import { memoize } from "../src/lib/memoize.ts";
import { createLogger } from "../src/observe/logger.ts";
import { createMetrics } from "../src/observe/metrics.ts";
import { compilePolicyText } from "../src/policy/compile.ts";
import { hashUserAgent } from "../src/risk/user-agent-hash.ts";
import { HOST, POLICY, PUBLIC_CLIENT, USER_AGENT } from "./scenario.ts";

const calls = Number(process.argv[2] ?? 200_000);
const high = { session: 1e9, user: 1e9, ip: 1e9 };
const config = resolveConfig({
  public_url: "http://auth.localhost",
  trusted_proxies: ["127.0.0.1/32"],
  log: { level: "silent", allow_sample_rate: 0 },
  // Counted, but above what one session sends, so every answer stays 200.
  risk: {
    geo: { enabled: true },
    rate: { window: 60_000, soft: high, hard: high },
  },
});
const stores = createMemoryStores();
const policy = compilePolicyText(POLICY, { defaultMaxAgeMs: config.stepup.default_max_age });
const now = Date.now();
await stores.users.put({ id: "u", displayName: "u", status: "active", groups: ["staff"], createdAt: now });
const { token } = await stores.sessions.create(
  {
    userId: "u",
    acr: "phr",
    amr: ["hwk", "user"],
    authAt: now,
    stepUpAt: now,
    ip: PUBLIC_CLIENT,
    country: "US",
    uaHash: hashUserAgent(USER_AGENT),
  },
  now,
  12 * 3600_000,
);
const handle = createForwardAuthHandler({
  config,
  policy: { current: () => policy },
  stores,
  ipLists: { current: () => [] },
  geo: memoize(lookupGeo),
  bearer: undefined,
  isTrustedProxy: (ip) => ip === "127.0.0.1",
  clock: () => now,
  logger: createLogger("silent"),
  metrics: createMetrics({ defaultMetrics: false }),
});

const headers = (path: string, cookie: boolean) =>
  new Headers({
    "x-forwarded-method": "GET",
    "x-forwarded-proto": "https",
    "x-forwarded-host": HOST,
    "x-forwarded-uri": path,
    "x-forwarded-for": PUBLIC_CLIENT,
    "user-agent": USER_AGENT,
    accept: "text/html",
    ...(cookie ? { cookie: `vigil_session=${token}` } : {}),
  });
const cases = {
  bypass: new Request("http://vigil/auth", { headers: headers("/public/x", false) }),
  session: new Request("http://vigil/auth", { headers: headers("/app", true) }),
  stepup: new Request("http://vigil/auth", { headers: headers("/admin/x", true) }),
};

async function run(request: Request, count: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const answer = handle(request, "127.0.0.1", "http://vigil/auth");
    const response = answer instanceof Response ? answer : await answer;
    if (response.status !== 200) throw new Error(`expected 200, got ${response.status}`);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

for (const [name, request] of Object.entries(cases)) {
  await run(request, calls / 4);
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) runs.push(await run(request, calls));
  console.log(`${name.padEnd(8)} ${Math.min(...runs).toFixed(2)} µs CPU per decision (best of 5 × ${calls})`);
}
