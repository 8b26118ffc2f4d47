/**
 * The Traefik section of `bun run bench`: the same requests through a real Traefik (the pinned
 * build, test/helpers/traefik.ts) with no auth, with forwardAuth to Vigil (authenticated rule;
 * full decision) and with forwardAuth to oauth2-proxy's /oauth2/auth (Redis session store, a
 * session cookie from a real sign-in against an oidc-provider IdP in Chromium).
 *
 * Pinning: Traefik and the auth server on the server core (the edge whose cost is compared);
 * wrk, Redis and the upstream app on the load core. Each case reports req/s at saturation (closed
 * loop), p50/p99 at a fixed offered load, what each auth adds over the no-auth route at that load,
 * and the CPU each process (Traefik, auth server, Redis, upstream) spends per request.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { AUTH_RESPONSE_HEADERS } from "../src/http/forward-auth/headers.ts";
import { SESSION_COOKIE } from "../src/session/cookie.ts";
import { launchChromium } from "../test/helpers/browser.ts";
import { startTraefik, toolsCacheDir, traefikBinary } from "../test/helpers/traefik.ts";
import {
  cpuMicros,
  freePort,
  LOAD_CORE,
  LOOPBACK,
  PINNING,
  pinned,
  SERVER_CORE,
  stopProcess,
  waitForHttp,
} from "./lib.ts";
import { type LoadResult, runWrk, runWrkAtRate } from "./load.ts";
import { startIdp } from "./oidc-idp.ts";
import { HOST, PUBLIC_CLIENT } from "./scenario.ts";

export const OAUTH2_PROXY_VERSION = "v7.15.6";
const OAUTH2_PROXY_COOKIE = "_oauth2_proxy";

export interface EdgeOptions {
  dir: string;
  root: string;
  redis: { url: string; child: Subprocess };
  /** Vigil's environment (bench/scenario.ts) and the seeded session tokens. */
  vigilEnv: Record<string, string>;
  tokens: { plain: string; stepped: string };
  userAgent: string;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** Offered load for the latency comparison (req/s). */
  rate: number;
  rateSeconds: number;
  spawned: Subprocess[];
}

export interface EdgeRow {
  name: string;
  saturated: LoadResult;
  steady: LoadResult;
  /** CPU µs per request in the closed loop, per process. */
  cpu: { traefik: number; auth: number | undefined; redis: number; upstream: number };
}

export function oauth2ProxyBinary(): string {
  const path =
    process.env.OAUTH2_PROXY_PATH ??
    join(toolsCacheDir(), `oauth2-proxy-${OAUTH2_PROXY_VERSION}`, "oauth2-proxy");
  if (!existsSync(path)) {
    throw new Error(
      `oauth2-proxy ${OAUTH2_PROXY_VERSION} is not built (looked for ${path}): run tools/build.sh oauth2-proxy`,
    );
  }
  return path;
}

/** A forwardAuth middleware as traefik/dynamic/vigil.yml writes it, at another address. */
function forwardAuth(
  address: string,
  trustForwardHeader: boolean,
  responseHeaders: readonly string[],
  cookies = "",
) {
  return `      forwardAuth:
        address: ${address}
        trustForwardHeader: ${trustForwardHeader}
        authResponseHeaders: [${responseHeaders.join(", ")}]
${cookies ? `        addAuthCookiesToResponse: [${cookies}]\n` : ""}        maxResponseBodySize: 65536
`;
}

function traefikFiles(port: number, upstream: string, vigil: string, oauth2Proxy: string) {
  const staticConfig = `global: { checkNewVersion: false, sendAnonymousUsage: false }
log: { level: ERROR }
entryPoints:
  web:
    address: "${LOOPBACK}:${port}"
    forwardedHeaders:
      # wrk stands in for a proxy in front of Traefik, so the full-decision case can carry a
      # public client address (the deployment guide's "trusted load balancer" setup).
      trustedIPs: ["${LOOPBACK}/32"]
providers:
  file: { directory: "{{DYNAMIC_DIR}}", watch: false }
`;
  const dynamic = `http:
  middlewares:
    vigil:
${forwardAuth(`${vigil}/auth`, false, AUTH_RESPONSE_HEADERS, SESSION_COOKIE)}    vigil-full:
${forwardAuth(`${vigil}/auth`, true, AUTH_RESPONSE_HEADERS, SESSION_COOKIE)}    oauth2-proxy:
${forwardAuth(`${oauth2Proxy}/oauth2/auth`, false, ["X-Auth-Request-User", "X-Auth-Request-Email"])}
  routers:
    noauth: { rule: "PathPrefix(\`/noauth\`)", service: upstream }
    vigil: { rule: "PathPrefix(\`/app\`)", middlewares: [vigil], service: upstream }
    vigil-full: { rule: "PathPrefix(\`/admin\`)", middlewares: [vigil-full], service: upstream }
    oauth2-proxy: { rule: "PathPrefix(\`/o2p\`)", middlewares: [oauth2-proxy], service: upstream }
  services:
    upstream:
      loadBalancer:
        servers: [{ url: "${upstream}" }]
`;
  return { staticConfig, dynamic: { "bench.yml": dynamic } };
}

/** Signs in through oauth2-proxy → IdP login and consent pages → callback, in Chromium. */
export async function oauth2ProxySession(origin: string): Promise<string> {
  const browser = await launchChromium(15_000);
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${origin}/oauth2/start?rd=%2F`);
    await page.fill('input[name="login"]', "bench-user");
    await page.fill('input[name="password"]', "any");
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/interaction\/.+/); // consent
    await page.click('button[type="submit"]');
    await page.waitForURL(`${origin}/`);
    const cookie = (await context.cookies(origin)).find((c) => c.name === OAUTH2_PROXY_COOKIE);
    if (!cookie) throw new Error("oauth2-proxy set no session cookie after the sign-in");
    return cookie.value;
  } finally {
    await browser.close();
  }
}

export async function startOauth2Proxy(options: EdgeOptions) {
  const port = await freePort();
  const origin = `http://${LOOPBACK}:${port}`;
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  const idp = await startIdp({ id: "bench", secret, redirectUri: `${origin}/oauth2/callback` });
  const child = Bun.spawn(
    pinned(SERVER_CORE, [
      oauth2ProxyBinary(),
      `--http-address=${LOOPBACK}:${port}`,
      "--provider=oidc",
      `--oidc-issuer-url=${idp.issuer}`,
      "--client-id=bench",
      `--client-secret=${secret}`,
      `--redirect-url=${origin}/oauth2/callback`,
      `--cookie-secret=${Buffer.from(crypto.getRandomValues(new Uint8Array(32)))
        .toString("base64url")
        .slice(0, 32)}`,
      "--cookie-secure=false",
      "--email-domain=*",
      "--upstream=static://200",
      "--session-store-type=redis",
      `--redis-connection-url=${options.redis.url}`,
      "--reverse-proxy=true",
      "--set-xauthrequest=true",
      "--skip-provider-button=true",
      "--code-challenge-method=S256",
      // Like Vigil's sampled decision log (1 % of allows): no line per request.
      "--request-logging=false",
    ]),
    { stdout: "ignore", stderr: Bun.file(join(options.dir, "oauth2-proxy.log")) },
  );
  options.spawned.push(child);
  await waitForHttp(`${origin}/ping`, child);
  return { child, origin, idp };
}

export async function runEdgeSection(options: EdgeOptions): Promise<EdgeRow[]> {
  traefikBinary(); // fails early, with the build command, when Traefik is missing
  const { dir, connections } = options;
  const upstreamPort = await freePort();
  const upstream = Bun.spawn(
    pinned(LOAD_CORE, [process.execPath, "bench/servers/bare.ts", String(upstreamPort)]),
    {
      cwd: options.root,
      stdout: "ignore",
      stderr: "inherit",
    },
  );
  options.spawned.push(upstream);
  await waitForHttp(`http://${LOOPBACK}:${upstreamPort}/`, upstream);

  const vigilPort = await freePort();
  const vigil = Bun.spawn(pinned(SERVER_CORE, [process.execPath, "src/main.ts"]), {
    cwd: options.root,
    env: { ...process.env, ...options.vigilEnv, VIGIL_PORT: String(vigilPort) },
    // The decision log (every denial and challenge, sampled allows), as the /auth cases keep it.
    stdout: Bun.file(join(dir, "vigil-edge.ndjson")),
    stderr: "inherit",
  });
  options.spawned.push(vigil);
  await waitForHttp(`http://${LOOPBACK}:${vigilPort}/healthz`, vigil);

  const oauth2Proxy = await startOauth2Proxy(options);
  const oauth2Cookie = await oauth2ProxySession(oauth2Proxy.origin);

  const traefikPort = await freePort();
  const origin = `http://${LOOPBACK}:${traefikPort}`;
  const base = { Host: HOST, "User-Agent": options.userAgent, Accept: "application/json" };
  const traefik = await startTraefik(
    traefikFiles(
      traefikPort,
      `http://${LOOPBACK}:${upstreamPort}`,
      `http://${LOOPBACK}:${vigilPort}`,
      oauth2Proxy.origin,
    ),
    async () => (await fetch(`${origin}/noauth/ready`, { headers: base })).status === 200,
    { cpu: PINNING ? Number(SERVER_CORE) : undefined },
  );

  const cases: { name: string; path: string; headers: Record<string, string>; auth?: Subprocess }[] = [
    { name: "Traefik → app, no auth", path: "/noauth/page", headers: base },
    {
      name: "Traefik + forwardAuth → Vigil, authenticated rule",
      path: "/app/page",
      headers: { ...base, Cookie: `theme=dark; ${SESSION_COOKIE}=${options.tokens.plain}` },
      auth: vigil,
    },
    {
      name: "Traefik + forwardAuth → Vigil, full decision",
      path: "/admin/users?page=2",
      headers: {
        ...base,
        "X-Forwarded-For": PUBLIC_CLIENT,
        Cookie: `theme=dark; ${SESSION_COOKIE}=${options.tokens.stepped}`,
      },
      auth: vigil,
    },
    {
      name: `Traefik + forwardAuth → oauth2-proxy ${OAUTH2_PROXY_VERSION}, Redis sessions`,
      path: "/o2p/page",
      headers: { ...base, Cookie: `theme=dark; ${OAUTH2_PROXY_COOKIE}=${oauth2Cookie}` },
      auth: oauth2Proxy.child,
    },
  ];

  const rows: EdgeRow[] = [];
  try {
    for (const edgeCase of cases) {
      const url = `${origin}${edgeCase.path}`;
      const probe = await fetch(url, { headers: edgeCase.headers, redirect: "manual" });
      if (probe.status !== 200)
        throw new Error(`${edgeCase.name}: expected 200 through Traefik, got ${probe.status}`);
      await runWrk({ url, headers: edgeCase.headers, seconds: options.warmupSeconds, connections, dir });
      const pids = {
        traefik: traefik.process.pid,
        auth: edgeCase.auth?.pid,
        redis: options.redis.child.pid,
        upstream: upstream.pid,
      };
      const before = Object.fromEntries(
        Object.entries(pids).map(([name, pid]) => [name, pid === undefined ? 0 : cpuMicros(pid)]),
      );
      const saturated = await runWrk({
        url,
        headers: edgeCase.headers,
        seconds: options.seconds,
        connections,
        dir,
      });
      const perRequest = (name: keyof typeof pids) => {
        const pid = pids[name];
        return pid === undefined ? undefined : (cpuMicros(pid) - (before[name] ?? 0)) / saturated.requests;
      };
      const cpu = {
        traefik: perRequest("traefik") ?? Number.NaN,
        auth: perRequest("auth"),
        redis: perRequest("redis") ?? Number.NaN,
        upstream: perRequest("upstream") ?? Number.NaN,
      };
      const paced = { url, headers: edgeCase.headers, connections, rate: options.rate, dir };
      await runWrkAtRate({ ...paced, seconds: options.warmupSeconds });
      const steady = await runWrkAtRate({ ...paced, seconds: options.rateSeconds });
      const row = { name: edgeCase.name, saturated, steady, cpu };
      console.log(`  ${formatEdgeRow(row, rows[0])}`);
      rows.push(row);
    }
  } finally {
    await traefik.stop();
    for (const child of [vigil, oauth2Proxy.child, upstream]) await stopProcess(child);
    await oauth2Proxy.idp.stop();
  }
  writeFileSync(join(dir, "edge.json"), JSON.stringify(rows, null, 2));
  return rows;
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const us = (value: number | undefined) => (value === undefined ? "—" : value.toFixed(1));

export const EDGE_HEADER = [
  "case".padEnd(62),
  "req/s".padStart(7),
  "p50".padStart(6),
  "p99".padStart(6),
  "+p50".padStart(6),
  "+p99".padStart(6),
  "traefik µs".padStart(10),
  "auth µs".padStart(8),
  "redis µs".padStart(8),
].join(" ");

export function formatEdgeRow(row: EdgeRow, noAuth: EdgeRow | undefined): string {
  const added = (field: "p50" | "p99") => (noAuth ? ms(row.steady[field] - noAuth.steady[field]) : "—");
  return [
    row.name.padEnd(62),
    `${Math.round(row.saturated.rps)}`.padStart(7),
    ms(row.steady.p50).padStart(6),
    ms(row.steady.p99).padStart(6),
    added("p50").padStart(6),
    added("p99").padStart(6),
    us(row.cpu.traefik).padStart(10),
    us(row.cpu.auth).padStart(8),
    us(row.cpu.redis).padStart(8),
  ].join(" ");
}

/** The Markdown table of the section, for RESULTS.md. */
export function edgeMarkdown(rows: EdgeRow[], rate: number): string {
  const noAuth = rows[0];
  const lines = [
    `| case | req/s at saturation | p50 ms at ${rate.toLocaleString("en")} req/s | p99 ms | added p50 ms | added p99 ms | errors (closed loop / paced) | Traefik CPU µs/req | auth server CPU µs/req | Redis CPU µs/req | upstream CPU µs/req |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    const added = (field: "p50" | "p99") =>
      noAuth && row !== noAuth ? ms(row.steady[field] - noAuth.steady[field]) : "—";
    lines.push(
      `| ${row.name} | ${Math.round(row.saturated.rps).toLocaleString("en")} | ${ms(row.steady.p50)} | ${ms(row.steady.p99)} | ${added("p50")} | ${added("p99")} | ${row.saturated.errors} / ${row.steady.errors} | ${us(row.cpu.traefik)} | ${us(row.cpu.auth)} | ${us(row.cpu.redis)} | ${us(row.cpu.upstream)} |`,
    );
  }
  return lines.join("\n");
}
