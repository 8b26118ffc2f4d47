/**
 * The /auth contract, sent exactly as Traefik v3 sends it (shared/reference/traefik-forwardauth.md):
 * GET to Vigil's own address (Host = Vigil), the client's headers copied, X-Forwarded-* set per
 * trustForwardHeader mode. Real HTTP, real Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { createLogger } from "../../src/observe/logger.ts";
import { ipReputationKey } from "../../src/ports.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

const POLICY = `
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: health, paths: ["/healthz"], action: bypass }
  - { name: office, paths: ["/office/**"], networks: ["203.0.113.0/24"], action: bypass }
  - { name: office-elsewhere, paths: ["/office/**"], action: deny }
  - { name: admin, hosts: ["app.example.com"], paths: ["/admin/**"], groups: [admins], action: stepup, max_age: 5m }
  - { name: closed, paths: ["/closed/**"], action: deny }
  - { name: app, hosts: ["*.example.com", "app.example.com"], action: authenticated }
default: deny
`;

const CLIENT = "198.51.100.23";
type Mode = "false" | "unset" | "true";

/** What Traefik's forwardAuth sends for a client request, per trustForwardHeader mode. */
function traefikHeaders(
  mode: Mode,
  request: { method?: string; host?: string; uri: string; proto?: string; headers?: Record<string, string> },
): Record<string, string> {
  const client = request.headers ?? {};
  const headers: Record<string, string> = { "User-Agent": "Mozilla/5.0 test", ...client };
  if (mode === "unset") {
    // legacy: entrypoint values pass through
    headers["X-Real-Ip"] = CLIENT;
    headers["X-Forwarded-Server"] = "traefik-1";
  }
  headers["X-Forwarded-Method"] = request.method ?? "GET";
  headers["X-Forwarded-Proto"] = request.proto ?? "https";
  headers["X-Forwarded-Host"] = request.host ?? "app.example.com";
  headers["X-Forwarded-Uri"] = request.uri;
  headers["X-Forwarded-Port"] = "443";
  const clientXff = client["X-Forwarded-For"];
  headers["X-Forwarded-For"] = mode === "true" && clientXff ? `${clientXff}, ${CLIENT}` : CLIENT;
  return headers;
}

let vigil: TestVigil;
const logLines: string[] = [];

async function auth(
  request: Parameters<typeof traefikHeaders>[1] & { mode?: Mode; address?: string },
): Promise<Response> {
  const headers = traefikHeaders(request.mode ?? "false", request);
  return fetch(`${vigil.url}${request.address ?? "/auth"}`, { headers, redirect: "manual" });
}

const BROWSER = { Accept: "text/html,application/xhtml+xml" };
const API = { Accept: "application/json" };

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  vigil = await startVigil({
    policyText: POLICY,
    config: {
      risk: { rate: { window: "60s", soft: { session: 5 }, hard: { session: 5, user: 1000, ip: 1000 } } },
    },
    deps: { logger: createLogger("info", sink) },
  });
});
afterAll(async () => vigil?.close());

describe.each(["false", "unset", "true"] as Mode[])("trustForwardHeader %s", (mode) => {
  test("anonymous browser → 302 to the portal with an absolute Location and rd", async () => {
    const response = await auth({ mode, uri: "/docs?page=2", headers: BROWSER });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(
      `http://auth.localhost:8080/login?rd=${encodeURIComponent("https://app.example.com/docs?page=2")}`,
    );
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  test("anonymous API client → 401 with a Bearer challenge", async () => {
    const response = await auth({ mode, uri: "/api/items", headers: API });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toStartWith('Bearer realm="vigil"');
    expect(await response.json()).toEqual({ error: "unauthorized", reason: "no_credentials" });
  });

  test("a session → 200 with the identity headers", async () => {
    const { token } = await signIn(
      vigil.stores,
      { id: `alice-${mode}`, groups: ["staff", "dev"] },
      vigil.clock.now,
    );
    const response = await auth({
      mode,
      uri: "/docs",
      headers: { ...BROWSER, Cookie: `theme=x; vigil_session=${token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-auth-user")).toBe(`alice-${mode}`);
    expect(response.headers.get("x-auth-groups")).toBe("staff,dev");
    expect(response.headers.get("x-auth-acr")).toBe("passkey");
    expect(response.headers.get("x-auth-amr")).toBe("hwk,user");
    expect(response.headers.get("x-auth-risk")).toBe("0");
    expect(response.headers.get("x-auth-rule")).toBe("app");
  });

  test("a forged X-Forwarded-For never changes the client address", async () => {
    const response = await auth({
      mode,
      uri: "/office/wiki",
      headers: { ...API, "X-Forwarded-For": "203.0.113.9" },
    });
    expect(response.status).toBe(403);
    expect((await response.json()).reason).toBe("rule_denied");
  });
});

describe("step-up", () => {
  test("browser → 302 to /stepup, API → RFC 9470 challenge; a fresh step-up passes", async () => {
    const { token, sessionId } = await signIn(
      vigil.stores,
      { id: "root", groups: ["admins"] },
      vigil.clock.now,
    );
    const cookie = `vigil_session=${token}`;
    const browser = await auth({ uri: "/admin/users", headers: { ...BROWSER, Cookie: cookie } });
    expect(browser.status).toBe(302);
    expect(browser.headers.get("location")).toStartWith("http://auth.localhost:8080/stepup?rd=");

    const api = await auth({ uri: "/admin/users", headers: { ...API, Cookie: cookie } });
    expect(api.status).toBe(401);
    const challenge = api.headers.get("www-authenticate")!;
    expect(challenge).toContain('error="insufficient_user_authentication"');
    expect(challenge).toContain('acr_values="phr"');
    expect(challenge).toContain('max_age="300"');

    await vigil.stores.sessions.update(sessionId, {
      acr: "phr",
      amr: ["hwk", "user", "mfa"],
      stepUpAt: vigil.clock.now,
    });
    const fresh = await auth({ uri: "/admin/users", headers: { ...API, Cookie: cookie } });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("x-auth-acr")).toBe("phr");
    expect(fresh.headers.get("x-auth-amr")).toBe("hwk,user,mfa");

    vigil.clock.now += 6 * 60_000;
    const stale = await auth({ uri: "/admin/users", headers: { ...API, Cookie: cookie } });
    expect(stale.status).toBe(401);
    expect((await stale.json()).reason).toBe("stepup_stale");
  });

  test("address options: /auth?stepup=60 tightens an authenticated rule, ?group= demands a group", async () => {
    const { token, sessionId } = await signIn(
      vigil.stores,
      { id: "carol", groups: ["staff"] },
      vigil.clock.now,
    );
    const headers = { ...API, Cookie: `vigil_session=${token}` };
    expect((await auth({ uri: "/docs", headers, address: "/auth?stepup=60" })).status).toBe(401);
    await vigil.stores.sessions.update(sessionId, { acr: "phr", stepUpAt: vigil.clock.now - 30_000 });
    expect((await auth({ uri: "/docs", headers, address: "/auth?stepup=60" })).status).toBe(200);
    const group = await auth({ uri: "/docs", headers, address: "/auth?group=admins" });
    expect(group.status).toBe(403);
    expect((await group.json()).reason).toBe("group_required");
    expect((await auth({ uri: "/docs", headers, address: "/auth?stepup=later" })).status).toBe(400);
  });
});

describe("denials and limits", () => {
  test("deny rule: JSON for APIs, a small page for browsers", async () => {
    const api = await auth({ uri: "/closed/x", headers: API });
    expect(api.status).toBe(403);
    expect(await api.json()).toEqual({ error: "forbidden", reason: "rule_denied" });
    const page = await auth({ uri: "/closed/x", headers: BROWSER });
    expect(page.status).toBe(403);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("rule_denied");
  });

  test("unknown hosts fall to the default deny", async () => {
    const response = await auth({ host: "intranet.other.org", uri: "/", headers: API });
    expect(response.status).toBe(403);
  });

  test("a suspended user is denied, a non-admin on /admin is denied", async () => {
    const suspended = await signIn(vigil.stores, { id: "mallory", status: "suspended" }, vigil.clock.now);
    const response = await auth({
      uri: "/docs",
      headers: { ...API, Cookie: `vigil_session=${suspended.token}` },
    });
    expect(response.status).toBe(403);
    expect((await response.json()).reason).toBe("user_suspended");
    const staff = await signIn(vigil.stores, { id: "dave", groups: ["staff"] }, vigil.clock.now);
    const admin = await auth({ uri: "/admin/", headers: { ...API, Cookie: `vigil_session=${staff.token}` } });
    expect(admin.status).toBe(403);
    expect((await admin.json()).reason).toBe("group_required");
  });

  test("an unknown or idle session is no identity", async () => {
    const unknown = await auth({
      uri: "/docs",
      headers: { ...API, Cookie: `vigil_session=${"x".repeat(43)}` },
    });
    expect((await unknown.json()).reason).toBe("session_unknown");
    const { token } = await signIn(vigil.stores, { id: "erin" }, vigil.clock.now);
    vigil.clock.now += 61 * 60_000; // idle time-out is 1 h
    const idle = await auth({ uri: "/docs", headers: { ...API, Cookie: `vigil_session=${token}` } });
    expect(idle.status).toBe(401);
    // The store expires an idle session itself; the core's own idle check is the second line.
    expect(["session_idle_timeout", "session_unknown"]).toContain((await idle.json()).reason);
  });

  test("over the hard rate limit → 429 with Retry-After", async () => {
    const { token } = await signIn(vigil.stores, { id: "frank" }, vigil.clock.now);
    const headers = { ...API, Cookie: `vigil_session=${token}` };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await auth({ uri: "/docs", headers })).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const limited = await auth({ uri: "/docs", headers });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // The violation raised the address's dynamic reputation (fire and forget, so poll briefly).
    const key = ipReputationKey(CLIENT);
    for (let i = 0; i < 50 && (await vigil.stores.counters.get(key)) === 0; i++) await Bun.sleep(10);
    expect(await vigil.stores.counters.get(key)).toBeGreaterThan(0);
    await vigil.stores.counters.delete(key);
  });

  test("malformed forwarded headers → 400", async () => {
    const response = await fetch(`${vigil.url}/auth`, { headers: { "X-Forwarded-Host": "app.example.com" } });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe("bad_request");
  });

  test("paths whose meaning depends on the backend (%2F, %5C, backslash, %00) are refused", async () => {
    for (const uri of ["/admin%2Fusers", "/public%5c..%5cadmin", "/a\\b", "/x%00.html", "/%2e%2e%2fadmin"]) {
      const response = await auth({ uri, headers: API });
      expect({ uri, status: response.status }).toEqual({ uri, status: 400 });
    }
    // Encoded unreserved characters are normalised and matched while the path as written meets the
    // same rule; when it meets another (a backend that does not decode reads that one), 400.
    expect((await auth({ uri: "/admin/%75sers", headers: API })).status).toBe(401);
    expect((await auth({ uri: "/%61dmin/users", headers: API })).status).toBe(400);
  });

  test("HEAD arrives as GET with X-Forwarded-Method: HEAD and is treated as a navigation", async () => {
    const response = await auth({ method: "HEAD", uri: "/docs", headers: BROWSER });
    expect(response.status).toBe(302);
  });

  test("websocket upgrades (X-Forwarded-Proto wss) redirect back to https", async () => {
    const response = await auth({ mode: "true", proto: "wss", uri: "/socket", headers: BROWSER });
    expect(response.headers.get("location")).toContain(encodeURIComponent("https://app.example.com/socket"));
  });

  test("CORS preflights pass without credentials", async () => {
    const response = await auth({
      method: "OPTIONS",
      uri: "/api/x",
      headers: { "Access-Control-Request-Method": "PUT" },
    });
    expect(response.status).toBe(200);
  });
});

describe("observability", () => {
  test("decision lines carry rule, reasons and latency but never the cookie or the query", async () => {
    const { token } = await signIn(vigil.stores, { id: "grace" }, vigil.clock.now);
    await auth({ uri: "/docs?secret=s3cr3t", headers: { ...API, Cookie: `vigil_session=${token}` } });
    const line = logLines
      .map((l) => JSON.parse(l))
      .findLast((l) => l.msg === "decision" && l.user === "grace");
    expect(line).toMatchObject({ decision: "allow", rule: "app", reasons: ["authenticated"], path: "/docs" });
    expect(typeof line.latency_us).toBe("number");
    const all = logLines.join("\n");
    expect(all).not.toContain(token);
    expect(all).not.toContain("s3cr3t");
  });

  test("metrics expose decisions by outcome and reason", async () => {
    // An anonymous request of its own, so the series exists whichever tests ran before.
    expect((await auth({ uri: "/api/items", headers: API })).status).toBe(401);
    const text = await (await fetch(`${vigil.url}/metrics`)).text();
    expect(text).toMatch(/vigil_decisions_total\{decision="login",reason="no_credentials"\} \d+/);
    expect(text).toContain("vigil_decision_duration_seconds_bucket");
    expect(text).toContain('vigil_policy_reloads_total{result="ok"}');
  });

  test("healthz and readyz", async () => {
    expect((await fetch(`${vigil.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${vigil.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).store).toBe("ok");
  });
});
