/**
 * `vigil explain`: the report as data (explainRequest with real geoip-lite lookups, a compiled
 * policy and list matchers), its text form, its agreement with the real /auth on the same
 * situation, and the real CLI once as a subprocess against a real redis-server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lookupGeo } from "../../src/adapters/geo/geoip.ts";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import {
  type ExplainDeps,
  type ExplainRequest,
  explainRequest,
  formatExplainReport,
} from "../../src/cli/explain.ts";
import { resolveConfig } from "../../src/config/load.ts";
import { compilePolicyText } from "../../src/policy/compile.ts";
import { ipReputationKey, type Stores } from "../../src/ports.ts";
import { hashUserAgent } from "../../src/risk/user-agent-hash.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { signIn, startVigil } from "../helpers/vigil.ts";
import { list } from "./fixtures.ts";

const NOW = Date.UTC(2025, 0, 15, 12);
const BERLIN = "81.169.145.1"; // DE
const US = "8.8.8.8"; // US
const TOR_EXIT = "185.220.101.1";
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

const POLICY = `
version: explain-test-1
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: health, paths: ["/healthz"], action: bypass }
  - { name: admin, hosts: ["app.example.com"], paths: ["/admin/**"], groups: [admins], action: stepup, max_age: 5m }
  - { name: payroll, hosts: ["app.example.com"], paths: ["/payroll/**"], action: authenticated, risk: { stepup_at: 25, deny_at: 60 } }
  - { name: app, hosts: ["app.example.com"], action: authenticated }
default: deny
`;

const config = resolveConfig({ public_url: "https://auth.example.com" });
const policy = compilePolicyText(POLICY, { defaultMaxAgeMs: config.stepup.default_max_age });
const lists = [
  list("tor-exits", ["185.220.101.0/24"], "deny"),
  list("firehol-level3", ["133.242.0.0/16"], "score", 25),
];

function deps(overrides: Partial<ExplainDeps> = {}): ExplainDeps {
  return { config, policy, policySource: "test", lists, geo: lookupGeo, now: NOW, ...overrides };
}

const run = (
  request: Partial<ExplainRequest> & Pick<ExplainRequest, "url" | "ip">,
  extra?: Partial<ExplainDeps>,
) => explainRequest({ userAgent: UA, ...request }, deps(extra));

describe("explainRequest", () => {
  test("a DE address against a US baseline: geo_country's default 40 points and a step-up", async () => {
    const report = await run({
      url: "https://app.example.com/payroll/2025?month=1",
      ip: BERLIN,
      user: "alice",
      groups: ["staff"],
      sessionCountry: "US",
    });
    expect(report.policy.version).toBe("explain-test-1");
    expect(report.rule).toMatchObject({
      name: "payroll",
      matched: true,
      action: "authenticated",
      thresholds: { stepupAt: 25, denyAt: 60 },
      ownThresholds: true,
    });
    expect(report.location?.country).toBe("DE");
    expect(report.identity).toMatchObject({
      kind: "known",
      userId: "alice",
      groups: ["staff"],
      source: "assumed",
    });
    expect(report.risk.reasons).toEqual([
      { signal: "geo_country", points: 40, detail: "request from DE, session established in US" },
    ]);
    expect(report.risk.score).toBe(40);
    expect(report.decision.kind).toBe("stepup");
    expect(report.decision.reasons).toEqual(["risk_stepup", "geo_country"]);
    const [api, browser] = report.answers;
    expect(api).toMatchObject({ client: "api", status: 401 });
    expect(api?.headers["www-authenticate"]).toContain('error="insufficient_user_authentication"');
    expect(api?.headers["www-authenticate"]).toContain('max_age="300"');
    expect(browser).toMatchObject({ client: "browser", status: 302 });
    expect(browser?.headers.location).toBe(
      `https://auth.example.com/stepup?rd=${encodeURIComponent("https://app.example.com/payroll/2025?month=1")}`,
    );

    const text = formatExplainReport(report);
    expect(text).toContain("rule      payroll");
    expect(text).toContain("risk: step-up at 25, deny at 60 (the rule's own)");
    expect(text).toMatch(/\+40 {2}geo_country +request from DE, session established in US/);
    expect(text).toContain("score     40/100: at or above stepup_at 25, below deny_at 60");
    expect(text).toContain("decision  STEPUP (risk_stepup, geo_country)");
    expect(text).toContain("answer    API: 401");
    expect(text).toContain("answer    browser: 302");
  });

  test("the same request on the policy's thresholds (40/80): the country alone is a step-up too", async () => {
    const report = await run({ url: "https://app.example.com/docs", ip: BERLIN, sessionCountry: "us" });
    expect(report.rule).toMatchObject({ name: "app", ownThresholds: false });
    expect(report.risk.score).toBe(40);
    expect(report.decision).toMatchObject({ kind: "stepup", reasons: ["risk_stepup", "geo_country"] });
    expect(report.answers[0]).toMatchObject({ client: "api", status: 401 });
    expect(report.answers[0]?.headers["x-auth-risk"]).toBeUndefined();
  });

  test("with country_mismatch_points lowered to 30 the same request stays allowed, with X-Auth-Risk 30", async () => {
    const lowered = resolveConfig({
      public_url: "https://auth.example.com",
      risk: { geo: { country_mismatch_points: 30 } },
    });
    const report = await run(
      { url: "https://app.example.com/docs", ip: BERLIN, sessionCountry: "us" },
      { config: lowered },
    );
    expect(report.rule).toMatchObject({ name: "app", ownThresholds: false });
    expect(report.decision.kind).toBe("allow");
    expect(report.answers).toHaveLength(2);
    expect(report.answers[0]).toMatchObject({ status: 200, headers: { "x-auth-risk": "30" } });
  });

  test("a deny list blocks, signed in or not", async () => {
    for (const anonymous of [true, false]) {
      const report = await run({
        url: "https://app.example.com/docs",
        ip: TOR_EXIT,
        anonymous,
        browser: true,
      });
      expect(report.risk.block).toEqual({
        signal: "ip_list",
        detail: 'client address is on deny list "tor-exits"',
      });
      expect(report.decision).toMatchObject({ kind: "deny", reasons: ["ip_blocked", "ip_list"] });
      expect(report.answers.map((a) => [a.client, a.status])).toEqual([
        ["browser", 403],
        ["api", 403],
      ]);
      expect(formatExplainReport(report)).toContain(
        'DENY  ip_list            client address is on deny list "tor-exits"',
      );
    }
  });

  test("a weighted list, a changed user agent, many requests", async () => {
    const listed = await run({
      url: "https://app.example.com/docs",
      ip: "133.242.0.1",
      sessionUserAgent: "curl/8.5.0",
    });
    expect(listed.risk.reasons.map((r) => [r.signal, r.points])).toEqual([
      ["ip_list", 25],
      ["user_agent", 20],
    ]);
    expect(listed.decision.kind).toBe("stepup");

    const busy = await run({ url: "https://app.example.com/docs", ip: US, requests: 2500 });
    expect(busy.decision).toMatchObject({ kind: "rate_limited", retryAfterSec: 32 });
    expect(busy.answers[0]?.headers["retry-after"]).toBe("32");
  });

  test("bypass rules answer without the store: no identity read, no risk", async () => {
    const report = await run({ url: "https://app.example.com/healthz", ip: TOR_EXIT });
    expect(report.riskEvaluated).toBe(false);
    expect(report.identity.kind).toBe("not_read");
    expect(report.decision).toMatchObject({ kind: "allow", reasons: ["bypass"] });
    expect(formatExplainReport(report)).toContain("risk      not evaluated");
  });

  test("no rule matched: the policy default", async () => {
    const report = await run({ url: "https://other.example.org/", ip: US });
    expect(report.rule).toMatchObject({ name: "default", matched: false, action: "deny" });
    expect(report.decision).toMatchObject({ kind: "deny", reasons: ["rule_denied"] });
  });

  test("address options tighten the rule as /auth?stepup=60 would", async () => {
    const report = await run({ url: "https://app.example.com/docs", ip: US, address: "/auth?stepup=60" });
    expect(report.rule).toMatchObject({ action: "stepup", maxAgeSec: 60 });
    expect(report.decision.kind).toBe("stepup");
  });

  test("bad input is refused with the option's name", async () => {
    await expect(run({ url: "app.example.com/docs", ip: US })).rejects.toThrow("--url");
    await expect(run({ url: "https://app.example.com/", ip: "8.8.8" })).rejects.toThrow("--ip");
    await expect(
      run({ url: "https://app.example.com/", ip: US, address: "/auth?stepup=soon" }),
    ).rejects.toThrow("--address");
    await expect(
      run({ url: "https://app.example.com/", ip: US, userAgent: "u".repeat(1025) }),
    ).rejects.toThrow("--ua: User-Agent is longer than 1024 bytes");
  });
});

describe("with a store (real Redis)", () => {
  let redis: RedisHandle;
  let stores: Stores;
  let prefix: string;
  let dir: string;

  beforeAll(async () => {
    redis = await startRedis();
    prefix = uniquePrefix();
    const client = createRedisClient(redis.url, { commandTimeoutMs: 1000 });
    await waitForRedis(client, 5000);
    stores = createRedisStores(client, prefix);
    await stores.users.put({
      id: "root",
      displayName: "Root",
      status: "active",
      groups: ["admins"],
      createdAt: NOW,
    });
    await stores.users.put({
      id: "mallory",
      displayName: "M",
      status: "suspended",
      groups: [],
      createdAt: NOW,
    });
    await stores.counters.add(ipReputationKey(BERLIN), 20, 3_600_000);
    dir = mkdtempSync(join(tmpdir(), "vigil-explain-"));
  });

  afterAll(async () => {
    await stores?.counters.delete(ipReputationKey(BERLIN));
    await stores?.health.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the user's groups and status and the address's reputation come from the store", async () => {
    const root = await run(
      { url: "https://app.example.com/admin/users", ip: BERLIN, user: "root" },
      { stores },
    );
    expect(root.identity).toMatchObject({ kind: "known", groups: ["admins"], source: "store" });
    expect(root.inputs).toMatchObject({ ipReputation: 20, ipReputationSource: "store" });
    expect(root.risk.reasons).toEqual([
      {
        signal: "ip_reputation",
        points: 20,
        detail: "recent failed step-ups or rate violations from this address",
      },
    ]);
    expect(root.decision).toMatchObject({ kind: "stepup", reasons: ["stepup_required"] });

    const suspended = await run({ url: "https://app.example.com/docs", ip: US, user: "mallory" }, { stores });
    expect(suspended.decision).toMatchObject({ kind: "deny", reasons: ["user_suspended"] });
    const unknown = await run({ url: "https://app.example.com/docs", ip: US, user: "nobody" }, { stores });
    expect(unknown.decision).toMatchObject({ kind: "login", reasons: ["user_unknown"] });
  });

  test("the real CLI, as a subprocess: `bun src/cli.ts explain …`", async () => {
    const policyPath = join(dir, "policy.yaml");
    const torPath = join(dir, "exit-addresses");
    const configPath = join(dir, "vigil.yaml");
    writeFileSync(policyPath, POLICY);
    writeFileSync(
      torPath,
      `ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nExitAddress ${TOR_EXIT} 2025-01-15 11:12:13\n`,
    );
    writeFileSync(
      configPath,
      [
        "public_url: https://auth.example.com",
        `policy_path: ${policyPath}`,
        `redis: { prefix: "${prefix}" }`,
        `risk: { ip_lists: [ { name: tor-exits, path: ${torPath}, action: deny } ] }`,
      ].join("\n"),
    );
    const env = { ...process.env, VIGIL_CONFIG: configPath, REDIS_URL: redis.url, VIGIL_POLICY: "" };
    const cli = (args: string[]) =>
      Bun.spawn(["bun", "src/cli.ts", "explain", ...args], {
        cwd: join(import.meta.dir, "../.."),
        env,
        stdout: "pipe",
        stderr: "pipe",
      });

    const child = cli([
      "--url",
      "https://app.example.com/reports/q1",
      "--ip",
      BERLIN,
      "--user",
      "root",
      "--session-country",
      "US",
      "--browser",
    ]);
    const timer = setTimeout(() => child.kill(), 20_000);
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    clearTimeout(timer);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("policy    version explain-test-1");
    expect(stdout).toContain("rule      app");
    expect(stdout).toContain("risk: step-up at 40, deny at 80 (the policy's)");
    expect(stdout).toContain("identity  root [admins] (read from the store)");
    expect(stdout).toMatch(/\+40 {2}geo_country +request from DE, session established in US/);
    expect(stdout).toMatch(/\+20 {2}ip_reputation/);
    expect(stdout).toContain("score     60/100: at or above stepup_at 40, below deny_at 80");
    expect(stdout).toContain("decision  STEPUP (risk_stepup, ip_reputation, geo_country)");
    expect(stdout).toContain("answer    browser: 302");
    expect(stdout).toContain("location: https://auth.example.com/stepup?rd=");

    const blocked = cli(["--url", "https://app.example.com/", "--ip", TOR_EXIT, "--anonymous", "--json"]);
    const json = JSON.parse(await new Response(blocked.stdout).text());
    expect(await blocked.exited).toBe(0);
    expect(json.decision).toMatchObject({ kind: "deny", reasons: ["ip_blocked", "ip_list"] });

    const usage = cli(["--url", "https://app.example.com/"]);
    expect(await usage.exited).toBe(2);
    expect(await new Response(usage.stderr).text()).toContain("--url and --ip are required");
  }, 30_000);
});

describe("explain agrees with /auth", () => {
  test("same config, policy, lists and situation → same status and X-Auth-Risk", async () => {
    const vigil = await startVigil({
      now: NOW,
      policyText: POLICY,
      config: { public_url: "https://auth.example.com" },
      deps: { ipLists: { current: () => lists } },
    });
    try {
      const live = vigil.deps.policy.current();
      const situations: Array<{ uri: string; ip: string; ua: string; groups: string[] }> = [
        { uri: "/docs", ip: BERLIN, ua: UA, groups: [] },
        { uri: "/payroll/x", ip: BERLIN, ua: UA, groups: [] },
        { uri: "/docs", ip: "133.242.0.1", ua: "curl/8.5.0", groups: [] },
        { uri: "/admin/users", ip: US, ua: UA, groups: ["admins"] },
        { uri: "/admin/users", ip: US, ua: UA, groups: ["staff"] },
        { uri: "/docs", ip: TOR_EXIT, ua: UA, groups: [] },
        { uri: "/healthz", ip: TOR_EXIT, ua: UA, groups: [] },
      ];
      for (const [index, s] of situations.entries()) {
        const { token } = await signIn(vigil.stores, { id: `u${index}`, groups: s.groups }, NOW, {
          ip: US,
          country: "US",
          uaHash: hashUserAgent(UA),
        });
        const response = await fetch(`${vigil.url}/auth`, {
          redirect: "manual",
          headers: {
            Accept: "application/json",
            "User-Agent": s.ua,
            Cookie: `vigil_session=${token}`,
            "X-Forwarded-Method": "GET",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "app.example.com",
            "X-Forwarded-Uri": s.uri,
            "X-Forwarded-For": s.ip,
          },
        });
        const report = await explainRequest(
          {
            url: `https://app.example.com${s.uri}`,
            ip: s.ip,
            user: `u${index}`,
            groups: s.groups,
            userAgent: s.ua,
            sessionCountry: "US",
            sessionUserAgent: UA,
          },
          deps({ config: vigil.config, policy: live }),
        );
        const answer = report.answers[0]!;
        expect({ index, status: answer.status, risk: answer.headers["x-auth-risk"] ?? null }).toEqual({
          index,
          status: response.status,
          risk: response.headers.get("x-auth-risk"),
        });
      }
    } finally {
      await vigil.close();
    }
  });
});
