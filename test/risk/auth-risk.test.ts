/**
 * The risk engine end to end through the real /auth endpoint: Traefik-style requests over HTTP,
 * a real redis-server for sessions, rate counters and dynamic reputation, the real geoip-lite
 * database with public addresses of known countries, IP lists loaded from files by the real
 * IpListLoader, and a fixed clock the tests move by hand.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { IpListLoader } from "../../src/adapters/files/ip-list-loader.ts";
import { createLogger } from "../../src/observe/logger.ts";
import { ipReputationKey } from "../../src/ports.ts";
import { hashUserAgent } from "../../src/risk/user-agent-hash.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

/** 2025-01-15T12:00:00Z */
const NOW = Date.UTC(2025, 0, 15, 12);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// Real public addresses, countries as geoip-lite 2.0.3 has them (see test/risk/geoip.test.ts).
const BERLIN = "81.169.145.1"; // DE, Strato
const BERLIN_2 = "81.169.145.2"; // DE, same block
const SYDNEY = "13.54.0.1"; // AU, AWS ap-southeast-2
const AUSTRALIA_CF = "1.1.1.1"; // AU, Cloudflare (on the weighted test list)
const TOKYO = "133.242.0.1"; // JP, Sakura Internet
const TOKYO_2 = "133.242.0.2"; // JP, same block and location
const US = "8.8.8.8"; // US, Google Public DNS
const US_V6 = "2001:4860:4860::8888"; // US, Google Public DNS over IPv6
const SAO_PAULO = "177.71.128.1"; // BR, AWS sa-east-1
const TOR_EXIT = "185.220.101.1"; // DE, on the test Tor exit list (deny)
const FRANKFURT_V6 = "2a00:1450:4001::1"; // DE, on the test DROP list (deny)

const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const OTHER_UA = "curl/8.5.0";

const POLICY = `
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: payroll, hosts: ["app.example.com"], paths: ["/payroll/**"], action: authenticated, risk: { stepup_at: 20, deny_at: 50 } }
  - { name: reports, hosts: ["app.example.com"], paths: ["/reports/**"], action: authenticated, risk: { stepup_at: 40, deny_at: 95 } }
  - { name: status, hosts: ["app.example.com"], paths: ["/status/**"], action: authenticated, risk: { stepup_at: 90, deny_at: 101 } }
  - { name: app, hosts: ["app.example.com"], action: authenticated }
default: deny
`;

const BROWSER = { Accept: "text/html,application/xhtml+xml" };
const API = { Accept: "application/json" };

let vigil: TestVigil;
let lists: IpListLoader;
let listDir: string;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  listDir = mkdtempSync(join(tmpdir(), "vigil-risk-lists-"));
  // Three of the supported formats: Tor exit-addresses, Spamhaus DROP text, FireHOL netset.
  writeFileSync(
    join(listDir, "exit-addresses"),
    `ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E
Published 2025-01-14 18:00:00
LastStatus 2025-01-15 11:00:00
ExitAddress ${TOR_EXIT} 2025-01-15 11:12:13
`,
  );
  writeFileSync(
    join(listDir, "drop.txt"),
    `; Spamhaus DROP List 2025/01/15 - (c) 2025 The Spamhaus Project
; Last-Modified: Wed, 15 Jan 2025 10:00:00 GMT
2a00:1450:4001::/48 ; SBL000001
`,
  );
  writeFileSync(join(listDir, "level3.netset"), `# FireHOL level3 (test copy)\n1.1.1.0/24\n`);
  lists = new IpListLoader(
    [
      { name: "tor-exits", path: join(listDir, "exit-addresses"), weight: 50, action: "deny" },
      { name: "spamhaus-drop", path: join(listDir, "drop.txt"), weight: 50, action: "deny" },
      { name: "firehol-level3", path: join(listDir, "level3.netset"), weight: 25, action: "score" },
    ],
    { watch: false },
  );
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  vigil = await startVigil({
    now: NOW,
    policyText: POLICY,
    config: {
      // Long enough for the "hours later" travel tests to still find the session alive.
      session: { idle_timeout: "11h" },
      risk: {
        rate: { window: "60s", soft: { session: 8 }, hard: { session: 12 } },
      },
    },
    deps: { logger: createLogger("info", sink), ipLists: lists },
  });
});

afterAll(async () => {
  await vigil?.close();
  lists?.close();
  if (listDir) rmSync(listDir, { recursive: true, force: true });
});

interface AuthRequest {
  ip: string;
  uri?: string;
  token?: string;
  ua?: string;
  client?: "browser" | "api";
}

/** What Traefik v3 forwardAuth sends (trustForwardHeader false): it sets X-Forwarded-For itself. */
function auth({ ip, uri = "/home", token, ua = UA, client = "api" }: AuthRequest): Promise<Response> {
  const headers: Record<string, string> = {
    ...(client === "browser" ? BROWSER : API),
    "User-Agent": ua,
    "X-Forwarded-Method": "GET",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "app.example.com",
    "X-Forwarded-Uri": uri,
    "X-Forwarded-Port": "443",
    "X-Forwarded-For": ip,
  };
  if (token) headers.Cookie = `vigil_session=${token}`;
  return fetch(`${vigil.url}/auth`, { headers, redirect: "manual" });
}

/** A signed-in user whose session baseline is this address, its country and UA. */
async function sessionAt(user: string, ip: string, country: string, groups: string[] = ["staff"]) {
  return signIn(vigil.stores, { id: user, groups }, vigil.clock.now, {
    ip,
    country,
    uaHash: hashUserAgent(UA),
  });
}

const risk = (response: Response) => response.headers.get("x-auth-risk");

/** The last decision line logged for this user (decision lines are written synchronously). */
function lastDecision(user: string): Record<string, unknown> | undefined {
  return logLines.findLast((line) => line.msg === "decision" && line.user === user);
}

describe("geo: country mismatch", () => {
  test("same country as the baseline → 200 with X-Auth-Risk 0", async () => {
    const { token } = await sessionAt("geo-same", BERLIN, "DE");
    for (const ip of [BERLIN, BERLIN_2]) {
      const response = await auth({ ip, token });
      expect(response.status).toBe(200);
      expect(risk(response)).toBe("0");
      expect(response.headers.get("x-auth-user")).toBe("geo-same");
    }
  });

  test("another country alone reaches the default stepup_at 40 → step-up", async () => {
    const { token } = await sessionAt("geo-us", BERLIN, "DE");
    const response = await auth({ ip: US, token });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ reason: "risk_stepup" });
    expect(risk(response)).toBeNull();
    expect(lastDecision("geo-us")).toMatchObject({
      decision: "stepup",
      reasons: ["risk_stepup", "geo_country"],
      risk: 40,
      risk_reasons: ["geo_country"],
    });
    const browser = await auth({ ip: US, token, client: "browser" });
    expect(browser.status).toBe(302);
    expect(browser.headers.get("location")).toStartWith("http://auth.localhost:8080/stepup?rd=");
  });

  test("another country and another user agent → step-up: 302 for browsers, RFC 9470 401 for APIs", async () => {
    const { token } = await sessionAt("geo-stolen", BERLIN, "DE");
    const browser = await auth({ ip: US, token, ua: OTHER_UA, client: "browser", uri: "/docs?x=1" });
    expect(browser.status).toBe(302);
    expect(browser.headers.get("location")).toBe(
      `http://auth.localhost:8080/stepup?rd=${encodeURIComponent("https://app.example.com/docs?x=1")}`,
    );
    // The score goes to the upstream only on 200 (authResponseHeaders); a challenge reaches the
    // client itself, which must not learn how close it is to the thresholds.
    expect(risk(browser)).toBeNull();

    const api = await auth({ ip: US, token, ua: OTHER_UA });
    expect(api.status).toBe(401);
    const challenge = api.headers.get("www-authenticate") ?? "";
    expect(challenge).toContain('error="insufficient_user_authentication"');
    expect(challenge).toContain('acr_values="phr"');
    expect(challenge).toContain('max_age="300"'); // stepup.default_max_age
    expect(await api.json()).toMatchObject({
      error: "insufficient_user_authentication",
      reason: "risk_stepup",
    });

    expect(lastDecision("geo-stolen")).toMatchObject({
      decision: "stepup",
      rule: "app",
      reasons: ["risk_stepup", "geo_country", "user_agent"],
      risk: 60,
      risk_reasons: ["geo_country", "user_agent"],
      ip: US,
    });
  });

  test("IPv6 addresses are looked up too", async () => {
    const { token } = await sessionAt("geo-v6", US_V6, "US");
    const same = await auth({ ip: US_V6, token });
    expect(risk(same)).toBe("0");
    const { token: other } = await sessionAt("geo-v6-de", BERLIN, "DE");
    const moved = await auth({ ip: US_V6, token: other });
    expect(moved.status).toBe(401);
    expect(lastDecision("geo-v6-de")).toMatchObject({
      decision: "stepup",
      risk: 40,
      risk_reasons: ["geo_country"],
      ip: US_V6,
    });
  });
});

describe("geo: impossible travel", () => {
  test("Berlin, then Sydney one hour later: 70 points → step-up (answerable with a passkey), not deny", async () => {
    const { token } = await sessionAt("traveller", BERLIN, "DE");
    expect(risk(await auth({ ip: BERLIN, token }))).toBe("0");
    vigil.clock.now += HOUR;
    const response = await auth({ ip: SYDNEY, token });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ reason: "risk_stepup" });
    expect(lastDecision("traveller")).toMatchObject({
      decision: "stepup",
      reasons: ["risk_stepup", "geo_country", "impossible_travel"],
      risk: 70,
      risk_reasons: ["geo_country", "impossible_travel"],
    });
  });

  test("the same trip with a new user agent: 90 points → deny at the default deny_at 80", async () => {
    const a = await sessionAt("traveller-ua", BERLIN, "DE");
    const b = await sessionAt("traveller-ua-reports", BERLIN, "DE");
    await auth({ ip: BERLIN, token: a.token });
    await auth({ ip: BERLIN, token: b.token, uri: "/reports/q1" });
    vigil.clock.now += HOUR;
    const response = await auth({ ip: SYDNEY, token: a.token, ua: OTHER_UA });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: "forbidden", reason: "risk_too_high" });
    expect(lastDecision("traveller-ua")).toMatchObject({
      decision: "deny",
      reasons: ["risk_too_high"],
      risk: 90,
      risk_reasons: ["geo_country", "impossible_travel", "user_agent"],
    });
    // A rule with deny_at 95 asks for a passkey instead.
    const reports = await auth({ ip: SYDNEY, token: b.token, ua: OTHER_UA, uri: "/reports/q1" });
    expect(reports.status).toBe(401);
    expect((await reports.json()).reason).toBe("risk_stepup");
    expect(lastDecision("traveller-ua-reports")).toMatchObject({ rule: "reports", risk: 90 });
  });

  test("the 70-point trip on a rule with deny_at 50 → deny; with stepup_at 90 → allowed at 70", async () => {
    const a = await sessionAt("traveller-payroll", BERLIN, "DE");
    const b = await sessionAt("traveller-status", BERLIN, "DE");
    await auth({ ip: BERLIN, token: a.token, uri: "/payroll/2025" });
    await auth({ ip: BERLIN, token: b.token, uri: "/status/" });
    vigil.clock.now += HOUR;
    const payroll = await auth({ ip: SYDNEY, token: a.token, uri: "/payroll/2025" });
    expect(payroll.status).toBe(403);
    expect((await payroll.json()).reason).toBe("risk_too_high");
    expect(lastDecision("traveller-payroll")).toMatchObject({ rule: "payroll", risk: 70 });
    const status = await auth({ ip: SYDNEY, token: b.token, uri: "/status/" });
    expect(status.status).toBe(200);
    expect(status.headers.get("x-auth-rule")).toBe("status");
    expect(risk(status)).toBe("70");
  });

  test("Berlin, then Tokyo 10 hours later is a plausible flight: only the country counts", async () => {
    const { token } = await sessionAt("flyer", BERLIN, "DE");
    await auth({ ip: BERLIN, token });
    vigil.clock.now += 10 * HOUR; // ~8,900 km in 10 h < 1000 km/h
    const response = await auth({ ip: TOKYO, token });
    expect(response.status).toBe(401); // the country alone (40) is a step-up
    expect(lastDecision("flyer")).toMatchObject({ risk: 40, risk_reasons: ["geo_country"] });
  });

  test("an unlocated request on the way does not shorten the trip: Berlin, private address 10 h later, Tokyo a minute after", async () => {
    const { token } = await sessionAt("flyer-lan", BERLIN, "DE");
    expect(risk(await auth({ ip: BERLIN, token }))).toBe("0");
    vigil.clock.now += 10 * HOUR;
    // On the plane's or hotel's private network: seen, but nowhere.
    const lan = await auth({ ip: "192.168.7.20", token });
    expect(lan.status).toBe(200);
    expect(risk(lan)).toBe("0");
    vigil.clock.now += MINUTE;
    // Berlin → Tokyo took 10 h 1 min, not one minute: no impossible travel.
    const response = await auth({ ip: TOKYO, token });
    expect(response.status).toBe(401);
    expect(lastDecision("flyer-lan")).toMatchObject({
      decision: "stepup",
      risk: 40,
      risk_reasons: ["geo_country"],
      ip: TOKYO,
    });
    // Tokyo is now the last location: another Tokyo address a minute later is no travel either.
    vigil.clock.now += MINUTE;
    await auth({ ip: TOKYO_2, token });
    expect(lastDecision("flyer-lan")).toMatchObject({ risk: 40, risk_reasons: ["geo_country"] });
  });
});

describe("client change", () => {
  test("a different user agent adds user_agent points", async () => {
    const { token } = await sessionAt("ua-change", BERLIN, "DE");
    expect(risk(await auth({ ip: BERLIN, token }))).toBe("0");
    const response = await auth({ ip: BERLIN, token, ua: OTHER_UA });
    expect(response.status).toBe(200);
    expect(risk(response)).toBe("20");
    expect(lastDecision("ua-change")?.risk_reasons).toEqual(["user_agent"]);
  });
});

describe("per-rule thresholds", () => {
  test("one score of 60, three rules: stepup_at/deny_at of the matched rule decide", async () => {
    const { token } = await sessionAt("thresholds", BERLIN, "DE");
    const request = (uri: string) => auth({ ip: US, token, ua: OTHER_UA, uri });
    const app = await request("/home"); // 40/80
    expect(app.status).toBe(401);
    expect((await app.json()).reason).toBe("risk_stepup");
    const payroll = await request("/payroll/2025"); // 20/50
    expect(payroll.status).toBe(403);
    expect((await payroll.json()).reason).toBe("risk_too_high");
    const status = await request("/status/ping"); // 90/101
    expect(status.status).toBe(200);
    expect(risk(status)).toBe("60");
    // Country alone (40) is a step-up on the app (40/80) and on payroll (20/50), under status' 90.
    const { token: other } = await sessionAt("thresholds-country", BERLIN, "DE");
    expect((await auth({ ip: US, token: other })).status).toBe(401);
    expect((await auth({ ip: US, token: other, uri: "/payroll/2025" })).status).toBe(401);
    const lenient = await auth({ ip: US, token: other, uri: "/status/ping" });
    expect(lenient.status).toBe(200);
    expect(risk(lenient)).toBe("40");
  });
});

describe("IP reputation", () => {
  test("a deny list (Tor exits) → 403 ip_blocked, even without a session", async () => {
    const anonymous = await auth({ ip: TOR_EXIT });
    expect(anonymous.status).toBe(403);
    expect(await anonymous.json()).toEqual({ error: "forbidden", reason: "ip_blocked" });
    const page = await auth({ ip: TOR_EXIT, client: "browser" });
    expect(page.status).toBe(403);
    expect(await page.text()).toContain("ip_blocked");

    const { token } = await sessionAt("tor-user", BERLIN, "DE");
    const signedIn = await auth({ ip: TOR_EXIT, token });
    expect(signedIn.status).toBe(403);
    expect((await signedIn.json()).reason).toBe("ip_blocked");
    const line = logLines.findLast((l) => l.msg === "decision" && l.ip === TOR_EXIT);
    expect(line).toMatchObject({
      decision: "deny",
      reasons: ["ip_blocked", "ip_list"],
      risk_reasons: ["ip_list"],
    });
  });

  test("a deny list in Spamhaus DROP format blocks IPv6 ranges", async () => {
    const response = await auth({ ip: FRANKFURT_V6 });
    expect(response.status).toBe(403);
    expect((await response.json()).reason).toBe("ip_blocked");
  });

  test("a weighted list adds its weight", async () => {
    const { token } = await sessionAt("listed", AUSTRALIA_CF, "AU");
    const response = await auth({ ip: AUSTRALIA_CF, token });
    expect(response.status).toBe(200);
    expect(risk(response)).toBe("25");
    expect(lastDecision("listed")?.risk_reasons).toEqual(["ip_list"]);
    // Anonymous clients on a score list are not blocked: they are asked to sign in.
    expect((await auth({ ip: AUSTRALIA_CF })).status).toBe(401);
  });

  test("dynamic reputation in Redis adds its points, capped at dynamic_ip.max_points", async () => {
    const key = ipReputationKey(TOKYO_2);
    const { token } = await sessionAt("reputation", TOKYO_2, "JP");
    expect(risk(await auth({ ip: TOKYO_2, token }))).toBe("0");
    await vigil.stores.counters.add(key, 45, HOUR);
    const risky = await auth({ ip: TOKYO_2, token });
    expect(risky.status).toBe(401);
    expect((await risky.json()).reason).toBe("risk_stepup");
    expect(lastDecision("reputation")).toMatchObject({ risk: 45, risk_reasons: ["ip_reputation"] });
    await vigil.stores.counters.add(key, 200, HOUR);
    await auth({ ip: TOKYO_2, token });
    expect(lastDecision("reputation")?.risk).toBe(60); // max_points, under deny_at 80
    await vigil.stores.counters.delete(key);
    expect(risk(await auth({ ip: TOKYO_2, token }))).toBe("0");
  });
});

describe("request rate", () => {
  test("over the soft limit adds points, over the hard limit → 429 with Retry-After, then reputation", async () => {
    const { token } = await sessionAt("busy", SAO_PAULO, "BR");
    const scores: Array<string | null> = [];
    for (let i = 1; i <= 12; i++) {
      const response = await auth({ ip: SAO_PAULO, token });
      expect(response.status).toBe(200);
      scores.push(risk(response));
    }
    // soft.session 8: the 9th request in the window is over it.
    expect(scores).toEqual([...Array(8).fill("0"), ...Array(4).fill("30")]);
    expect(lastDecision("busy")?.risk_reasons).toEqual(["rate"]);

    const limited = await auth({ ip: SAO_PAULO, token, client: "browser" });
    expect(limited.status).toBe(429);
    // 13 requests against a hard limit of 12 in a 60 s window: ceil(60 × (1 − 12/13)) = 5 s.
    expect(limited.headers.get("retry-after")).toBe("5");
    const api = await auth({ ip: SAO_PAULO, token });
    expect(api.status).toBe(429);
    expect(await api.json()).toMatchObject({ error: "rate_limited", reason: "rate_limited" });

    // Each hard-limit violation raised the address's dynamic reputation (fire and forget).
    const key = ipReputationKey(SAO_PAULO);
    for (let i = 0; i < 100 && (await vigil.stores.counters.get(key)) < 40; i++) await Bun.sleep(10);
    expect(await vigil.stores.counters.get(key)).toBe(40); // 2 × rate_violation_points

    // Two windows later the counters are quiet, but the address still carries its reputation.
    vigil.clock.now += 2 * MINUTE;
    const after = await auth({ ip: SAO_PAULO, token });
    expect(after.status).toBe(401);
    expect(lastDecision("busy")).toMatchObject({ risk: 40, risk_reasons: ["ip_reputation"] });
    await vigil.stores.counters.delete(key);
  });
});

describe("private addresses", () => {
  test("are no evidence: no country, no travel, and they do not move the last seen location", async () => {
    const { token } = await sessionAt("office", BERLIN, "DE");
    expect(risk(await auth({ ip: BERLIN, token }))).toBe("0");
    for (const ip of ["10.20.30.40", "192.168.1.7", "fd00::7", "100.64.0.9"]) {
      const response = await auth({ ip, token });
      expect(response.status).toBe(200);
      expect(risk(response)).toBe("0");
    }
    // Still Berlin as the last known place: a minute later from Berlin is no travel.
    vigil.clock.now += MINUTE;
    expect(risk(await auth({ ip: BERLIN_2, token }))).toBe("0");
    // A session established on a private network has no baseline country: no mismatch either.
    const { token: lan } = await sessionAt("lan", "10.0.0.5", "");
    expect(risk(await auth({ ip: SYDNEY, token: lan }))).toBe("0");
  });
});

describe("a passed step-up", () => {
  test("resets the baseline: the next request from the new place passes at 0", async () => {
    const { token, sessionId } = await sessionAt("relocated", BERLIN, "DE");
    const challenged = await auth({ ip: TOKYO, token, ua: OTHER_UA });
    expect(challenged.status).toBe(401);
    expect((await challenged.json()).reason).toBe("risk_stepup");

    // What the portal does on a passed step-up: rotate the session with acr phr, stepUpAt now and
    // the new place and client as the baseline.
    const now = vigil.clock.now;
    const rotated = await vigil.stores.sessions.rotate(
      sessionId,
      {
        acr: "phr",
        amr: ["hwk", "user", "mfa"],
        stepUpAt: now,
        ip: TOKYO,
        country: "JP",
        uaHash: hashUserAgent(OTHER_UA),
      },
      now,
      12 * HOUR,
    );
    expect(rotated).toBeDefined();
    expect((await auth({ ip: TOKYO, token, ua: OTHER_UA })).status).toBe(401); // old cookie is gone

    const passed = await auth({ ip: TOKYO, token: rotated!.token, ua: OTHER_UA });
    expect(passed.status).toBe(200);
    expect(risk(passed)).toBe("0");
    expect(passed.headers.get("x-auth-acr")).toBe("phr");
    vigil.clock.now += 30 * MINUTE;
    expect(risk(await auth({ ip: TOKYO_2, token: rotated!.token, ua: OTHER_UA }))).toBe("0");
  });

  test("without a baseline reset, a recent step-up answers the risk only from the same address", async () => {
    const { token, sessionId } = await sessionAt("bound", BERLIN, "DE");
    const now = vigil.clock.now;
    await vigil.stores.sessions.update(sessionId, { acr: "phr", stepUpAt: now, ip: TOKYO });
    const same = await auth({ ip: TOKYO, token, ua: OTHER_UA });
    expect(same.status).toBe(200);
    expect(risk(same)).toBe("60");
    const elsewhere = await auth({ ip: TOKYO_2, token, ua: OTHER_UA });
    expect(elsewhere.status).toBe(401);
    // stepup.default_max_age (5 min) later the step-up no longer answers it, even from there.
    vigil.clock.now += 6 * MINUTE;
    expect((await auth({ ip: TOKYO, token, ua: OTHER_UA })).status).toBe(401);
  });
});

describe("metrics", () => {
  /** Every sample of /metrics, by series ("name{labels}"). */
  async function samples(): Promise<Map<string, number>> {
    const text = await (await fetch(`${vigil.url}/metrics`)).text();
    const values = new Map<string, number>();
    for (const line of text.split("\n")) {
      const match = /^(\S+) (\S+)$/.exec(line);
      if (match && !line.startsWith("#")) values.set(match[1] as string, Number(match[2]));
    }
    return values;
  }

  test("vigil_risk_signals_total{signal} and the vigil_risk_score histogram", async () => {
    // This test causes every signal itself (own users, and an address no other test uses for the
    // rate), and checks that each series grew: it passes alone and in any order.
    const RATE_IP = "177.71.128.9"; // BR, AWS sa-east-1
    const before = await samples();

    const clean = await sessionAt("metrics-clean", BERLIN, "DE");
    expect(risk(await auth({ ip: BERLIN, token: clean.token }))).toBe("0");
    const traveller = await sessionAt("metrics-traveller", BERLIN, "DE");
    await auth({ ip: BERLIN, token: traveller.token }); // last seen in Berlin
    vigil.clock.now += HOUR;
    expect((await auth({ ip: SYDNEY, token: traveller.token })).status).toBe(401); // geo_country, impossible_travel
    const otherAgent = await sessionAt("metrics-agent", BERLIN, "DE");
    await auth({ ip: BERLIN, token: otherAgent.token, ua: OTHER_UA }); // user_agent
    const listed = await sessionAt("metrics-listed", AUSTRALIA_CF, "AU");
    await auth({ ip: AUSTRALIA_CF, token: listed.token }); // ip_list (weighted)
    expect((await auth({ ip: TOR_EXIT })).status).toBe(403); // ip_list (deny): ip_blocked
    const reputationKey = ipReputationKey(US);
    const reputed = await sessionAt("metrics-reputed", US, "US");
    await vigil.stores.counters.add(reputationKey, 45, HOUR);
    try {
      await auth({ ip: US, token: reputed.token }); // ip_reputation
    } finally {
      await vigil.stores.counters.delete(reputationKey);
    }
    const busy = await sessionAt("metrics-busy", RATE_IP, "BR");
    for (let i = 0; i < 13; i++) await auth({ ip: RATE_IP, token: busy.token }); // rate, then 429
    // The hard-limit violation raises RATE_IP's reputation (fire and forget): let it land, then clear it.
    const rateKey = ipReputationKey(RATE_IP);
    for (let i = 0; i < 100 && (await vigil.stores.counters.get(rateKey)) === 0; i++) await Bun.sleep(10);
    await vigil.stores.counters.delete(rateKey);

    const after = await samples();
    const grew = (series: string) => ({ series, grew: (after.get(series) ?? 0) > (before.get(series) ?? 0) });
    for (const series of [
      ...["geo_country", "impossible_travel", "user_agent", "ip_list", "ip_reputation", "rate"].map(
        (signal) => `vigil_risk_signals_total{signal="${signal}"}`,
      ),
      'vigil_risk_score_bucket{le="0"}',
      'vigil_risk_score_bucket{le="80"}',
      "vigil_risk_score_count",
      'vigil_stepup_challenges_total{trigger="risk"}',
      'vigil_decisions_total{decision="deny",reason="ip_blocked"}',
      'vigil_decisions_total{decision="rate_limited",reason="rate_limited"}',
    ]) {
      expect(grew(series)).toEqual({ series, grew: true });
    }
  });
});
