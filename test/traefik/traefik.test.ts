/**
 * Vigil behind a real Traefik (the version tools/traefik/go.mod pins, built by tools/build.sh)
 * loaded with the shipped traefik/traefik.yml and traefik/dynamic/, two Vigil processes on one
 * real Redis, and an upstream app that records what reaches it.
 *
 * The journey runs in headless Chromium with a virtual passkey: the bootstrap enrollment link,
 * sign-in through the app router, the app page with the identity Traefik copied, step-up on the
 * admin router, and a revocation made on the other replica taking effect on the next page load.
 * Between them, the forwardAuth contract through Traefik itself: forged identity headers in any
 * spelling, Vigil's Location as sent, forwarded-for spoofing, HEAD, CORS preflight, WebSocket and
 * a large request body.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { SESSION_COOKIE } from "../../src/session/cookie.ts";
import { openPasskeyBrowser, runCeremony } from "../helpers/browser.ts";
import { APP_HOST, httpsRequest, PORTAL_HOST, type Stack, servedKeyPin, startStack } from "./stack.ts";

// A real Traefik, two Vigil processes and Chromium: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const STEP_TIMEOUT = 15_000;
const USER = "admin"; // traefik/vigil.yaml's bootstrap.admin_user, in group admins

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The session cookie after sign-in and after step-up. */
let signedIn = "";
let steppedUp = "";

beforeAll(async () => {
  stack = await startStack();
  // Traefik serves its self-signed default certificate (tls: {} and no certificate configured):
  // Chromium is told to trust exactly that key, as a browser trusts an mkcert certificate.
  const pin = await servedKeyPin(stack.websecurePort, PORTAL_HOST);
  ({ browser, context, page } = await openPasskeyBrowser(STEP_TIMEOUT, [
    `--ignore-certificate-errors-spki-list=${pin}`,
  ]));
}, 60_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await stack?.stop();
});

/** Page loads that reached the app (Chromium's own /favicon.ico requests arrive at any time). */
const pages = () => stack.seen.filter((request) => request.path !== "/favicon.ico");
const shown = (header: string) => page.locator(`[id="${header.toLowerCase()}"]`).textContent();
const sessionCookie = async () =>
  (await context.cookies(stack.appOrigin)).find((cookie) => cookie.name === SESSION_COOKIE)?.value ?? "";

/** A request to the app router through Traefik's websecure entry point. */
const toApp = (path: string, headers: [string, string][] = [], method = "GET", body?: Uint8Array) =>
  httpsRequest(stack.websecurePort, { host: APP_HOST, path, headers, method, body });

// Each test sets up the state it needs, so the tests pass alone (`-t`) and in any order.
let enrollment: Promise<void> | undefined;
/** The bootstrap link is good once: the first test that needs the admin's passkey enrolls it. */
const enrollFirstAdmin = () =>
  (enrollment ??= (async () => {
    const link = new RegExp(`${stack.portalOrigin.replaceAll(".", "\\.")}/enroll/[A-Za-z0-9_-]+`).exec(
      stack.vigil.output(),
    )?.[0];
    expect(link).toBeDefined();
    await page.goto(link as string);
    expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
    await runCeremony(page);
    await page.waitForURL(`${stack.portalOrigin}/`);
    await expect(page.locator("h1").textContent()).resolves.toContain("signed in");
  })());

/** A fresh passkey sign-in in the browser, through Traefik; returns the session cookie. */
async function signInWithPasskey(): Promise<string> {
  await enrollFirstAdmin();
  await context.clearCookies();
  const home = `${stack.appOrigin}/home`;
  await page.goto(home);
  await page.waitForURL(`${stack.portalOrigin}/login?rd=${encodeURIComponent(home)}`);
  await runCeremony(page);
  await page.waitForURL(home);
  return sessionCookie();
}

/** A stepped-up session in the browser and in `steppedUp`: the last one while it is live, else a new one. */
async function ensureSteppedUp(): Promise<void> {
  const live =
    steppedUp !== "" &&
    (await toApp("/admin/panel", [["Cookie", `${SESSION_COOKIE}=${steppedUp}`]])).status === 200 &&
    (await sessionCookie()) === steppedUp;
  if (live) return;
  signedIn = await signInWithPasskey();
  const admin = `${stack.appOrigin}/admin/panel`;
  await page.goto(admin);
  await page.waitForURL(`${stack.portalOrigin}/stepup?rd=${encodeURIComponent(admin)}`);
  await runCeremony(page);
  await page.waitForURL(admin);
  steppedUp = await sessionCookie();
}

describe("the passkey journey through Traefik", () => {
  test("the bootstrap link enrolls the first admin through the portal router", async () => {
    await enrollFirstAdmin();
  }, 30_000);

  test("anonymous → Vigil's 302 to sign-in → passkey → the app page with the identity Traefik copied", async () => {
    await enrollFirstAdmin();
    await context.clearCookies();
    const home = `${stack.appOrigin}/home`;
    const before = pages().length;
    await page.goto(home);
    await page.waitForURL(`${stack.portalOrigin}/login?rd=${encodeURIComponent(home)}`);
    expect(pages().length).toBe(before);

    await runCeremony(page);
    await page.waitForURL(home);
    await expect(page.locator("h1").textContent()).resolves.toBe("app page /home");
    await expect(shown("X-Auth-User")).resolves.toBe(USER);
    await expect(shown("X-Auth-Groups")).resolves.toBe("admins");
    await expect(shown("X-Auth-Acr")).resolves.toBe("passkey");
    await expect(shown("X-Auth-Rule")).resolves.toBe("app");
    expect((await shown("X-Auth-Amr"))?.split(",")).toContain("hwk");
    signedIn = await sessionCookie();
    expect(signedIn).not.toBe("");
  }, 30_000);

  test("/admin goes through vigil-stepup: step-up page, passkey, acr phr, and a rotated cookie", async () => {
    signedIn = await signInWithPasskey();
    const admin = `${stack.appOrigin}/admin/panel`;
    const before = pages().length;
    await page.goto(admin);
    await page.waitForURL(`${stack.portalOrigin}/stepup?rd=${encodeURIComponent(admin)}`);
    expect(pages().length).toBe(before);

    await runCeremony(page);
    await page.waitForURL(admin);
    await expect(page.locator("h1").textContent()).resolves.toBe("app page /admin/panel");
    await expect(shown("X-Auth-Acr")).resolves.toBe("phr");
    await expect(shown("X-Auth-Rule")).resolves.toBe("admin");
    expect((await shown("X-Auth-Amr"))?.split(",")).toContain("mfa");

    // The step-up rotated the session id: the browser holds the new cookie, the old one is dead.
    steppedUp = await sessionCookie();
    expect(steppedUp).not.toBe(signedIn);
    const old = await toApp("/home", [
      ["Cookie", `${SESSION_COOKIE}=${signedIn}`],
      ["Accept", "text/html"],
    ]);
    expect(old.status).toBe(302);
    expect(old.header("location")).toStartWith(`${stack.portalOrigin}/login?rd=`);
  }, 30_000);
});

describe("the forwardAuth contract through Traefik", () => {
  const withSession = (): [string, string] => ["Cookie", `${SESSION_COOKIE}=${steppedUp}`];
  beforeEach(ensureSteppedUp);

  test("a client-sent identity header never reaches the app, in any spelling", async () => {
    const spellings = [
      "X-Auth-User",
      "x-auth-user",
      "X_Auth_User",
      "X.Auth.User",
      "x_auth-user",
      "X-AUTH-GROUPS",
    ];
    for (const name of spellings) {
      for (const cookie of [[withSession()], []] as [string, string][][]) {
        const before = pages().length;
        const answer = await toApp("/forged", [...cookie, [name, "mallory"], ["Accept", "application/json"]]);
        const reached = pages().slice(before);
        const forged = reached.flatMap((request) =>
          Object.entries(request.headers).filter(([, value]) => value.includes("mallory")),
        );
        expect({ name, signedIn: cookie.length > 0, forged }).toEqual({
          name,
          signedIn: cookie.length > 0,
          forged: [],
        });
        if (cookie.length === 0) {
          // Anonymous: a challenge, and the app never saw the request.
          expect([400, 401]).toContain(answer.status);
          expect(reached).toEqual([]);
        } else if (name.toLowerCase().replace(/[^a-z0-9]/g, "-") === name.toLowerCase()) {
          // The exact name: Traefik replaces it with Vigil's value.
          expect(answer.status).toBe(200);
          expect(reached[0]?.headers["x-auth-user"]).toBe(USER);
        } else {
          // Another spelling would pass Traefik untouched: Vigil refuses the request.
          expect(answer.status).toBe(400);
          expect(JSON.parse(answer.body)).toMatchObject({ error: "bad_request" });
          expect(reached).toEqual([]);
        }
      }
    }
  }, 30_000);

  test("on an allow the app's own Set-Cookie reaches the client, and no session cookie is added", async () => {
    const answer = await toApp("/cookies", [withSession(), ["Accept", "text/html"]]);
    expect(answer.status).toBe(200);
    const cookies = answer.all("set-cookie");
    expect(cookies.some((cookie) => cookie.startsWith("app_pref=1"))).toBe(true);
    // Vigil sets no cookie on an allow; addAuthCookiesToResponse must not invent or drop one.
    expect(cookies.filter((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`))).toEqual([]);
  });

  test("Vigil's Location reaches the browser exactly as Vigil sent it", async () => {
    const path = "/reports/q3?tab=summary&x=%2F";
    const viaTraefik = await toApp(path, [["Accept", "text/html"]]);
    const direct = await fetch(`${stack.vigil.url}/auth`, {
      headers: {
        "x-forwarded-method": "GET",
        "x-forwarded-proto": "https",
        "x-forwarded-host": `${APP_HOST}:${stack.websecurePort}`,
        "x-forwarded-uri": path,
        "x-forwarded-for": "127.0.0.1",
        accept: "text/html",
      },
      redirect: "manual",
    });
    expect(direct.status).toBe(302);
    expect(viaTraefik.status).toBe(302);
    expect(viaTraefik.header("location")).toBe(direct.headers.get("location") as string);
    expect(viaTraefik.header("location")).toBe(
      `${stack.portalOrigin}/login?rd=${encodeURIComponent(`${stack.appOrigin}${path}`)}`,
    );
    expect(viaTraefik.header("cache-control")).toBe("no-store");
  });

  test("a forged X-Forwarded-For from outside Traefik's trusted IPs never becomes the client address", async () => {
    const probe = `/xff-probe-${crypto.randomUUID()}`;
    const answer = await toApp(probe, [
      withSession(),
      ["X-Forwarded-For", "203.0.113.9"],
      ["X-Real-Ip", "203.0.113.9"],
      ["Forwarded", "for=203.0.113.9"],
      ["Accept", "application/json"],
    ]);
    expect(answer.status).toBe(200);
    const line = await waitForLogLine(probe);
    expect(line.ip).toBe("127.0.0.1");
    expect(line.decision).toBe("allow");
    // The app sees Traefik's own value too.
    const reached = stack.seen.find((request) => request.path === probe);
    expect(reached?.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  test("HEAD: decided as the method it is; a browser HEAD without a session is sent to sign-in", async () => {
    const before = pages().length;
    const allowed = await toApp("/head-check", [withSession()], "HEAD");
    expect(allowed.status).toBe(200);
    expect(
      pages()
        .slice(before)
        .map((request) => request.method),
    ).toEqual(["HEAD"]);
    const anonymous = await toApp("/head-check", [["Accept", "text/html"]], "HEAD");
    expect(anonymous.status).toBe(302);
    expect(anonymous.header("location")).toStartWith(`${stack.portalOrigin}/login?rd=`);
    expect(pages().length).toBe(before + 1);
  });

  test("a CORS preflight passes without cookies (cors_preflight: allow), with no identity; a bare OPTIONS does not", async () => {
    const before = pages().length;
    const preflight = await toApp(
      "/api/data",
      [
        ["Origin", "https://other.example.localhost"],
        ["Access-Control-Request-Method", "PUT"],
      ],
      "OPTIONS",
    );
    expect(preflight.status).toBe(200);
    const reached = pages().slice(before);
    expect(reached.map((request) => request.method)).toEqual(["OPTIONS"]);
    expect(reached[0]?.headers["x-auth-user"]).toBeUndefined();
    expect(reached[0]?.headers["x-auth-rule"]).toBe("app");

    const bare = await toApp("/api/data", [["Accept", "application/json"]], "OPTIONS");
    expect(bare.status).toBe(401);
    expect(pages().length).toBe(before + 1);
  });

  test("a WebSocket upgrade is authorised by the forwardAuth GET and then proxied; without a session it never opens", async () => {
    const url = `wss://127.0.0.1:${stack.websecurePort}/live`;
    const open = (headers: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const socket = new WebSocket(url, {
          headers: { host: APP_HOST, ...headers },
          tls: { rejectUnauthorized: false, serverName: APP_HOST },
        } as unknown as string[]);
        socket.onopen = () => socket.send("ping");
        socket.onmessage = (event) => {
          resolve(String(event.data));
          socket.close();
        };
        socket.onerror = () => reject(new Error("websocket failed"));
        socket.onclose = (event) => reject(new Error(`websocket closed (${event.code})`));
      });
    await expect(open({ cookie: `${SESSION_COOKIE}=${steppedUp}` })).resolves.toBe("echo /live ping");
    const upgraded = stack.seen.findLast((request) => request.path === "/live");
    expect(upgraded?.headers["x-auth-user"]).toBe(USER);

    const before = pages().length;
    await expect(open({})).rejects.toThrow();
    expect(pages().length).toBe(before);
  });

  test("a large request body reaches the app whole after an allow, and never Vigil; refused ones never reach the app", async () => {
    const body = new Uint8Array(8 * 1024 * 1024).fill(0x61);
    const before = pages().length;
    const allowed = await toApp(
      "/upload",
      [withSession(), ["Content-Type", "application/octet-stream"]],
      "POST",
      body,
    );
    expect(allowed.status).toBe(200);
    expect(
      pages()
        .slice(before)
        .map((request) => [request.method, request.bodyBytes]),
    ).toEqual([["POST", body.byteLength]]);
    const anonymous = await toApp("/upload", [["Content-Type", "application/octet-stream"]], "POST", body);
    expect(anonymous.status).toBe(401);
    expect(pages().length).toBe(before + 1);
  }, 30_000);

  test("the plain-HTTP entry point only redirects to HTTPS", async () => {
    const answer = await fetch(`http://127.0.0.1:${stack.webPort}/home`, {
      headers: { host: APP_HOST },
      redirect: "manual",
    });
    expect([301, 308]).toContain(answer.status);
    expect(answer.headers.get("location")).toBe(`https://${APP_HOST}:${stack.websecurePort}/home`);
  });

  test("the portal router publishes only the portal: /auth, /admin, /metrics and probes stay internal", async () => {
    for (const path of ["/auth", "/admin/users", "/metrics", "/readyz", "/healthz"]) {
      const answer = await httpsRequest(stack.websecurePort, {
        host: PORTAL_HOST,
        path,
        headers: [["Authorization", `Bearer ${stack.adminToken}`]],
      });
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
  });
});

describe("revocation across replicas", () => {
  test("sessions revoked on the other replica: the next page load through Traefik is sent to sign-in", async () => {
    await ensureSteppedUp();
    await page.goto(`${stack.appOrigin}/home`);
    await expect(shown("X-Auth-User")).resolves.toBe(USER);

    const revoked = await fetch(`${stack.replica.url}/admin/users/${USER}/sessions`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    expect(revoked.status).toBe(200);

    const before = pages().length;
    const home = `${stack.appOrigin}/home`;
    await page.goto(home);
    await page.waitForURL(`${stack.portalOrigin}/login?rd=${encodeURIComponent(home)}`);
    expect(pages().length).toBe(before);
  }, 30_000);
});

/** The decision log line Vigil wrote for a path (pino JSON on stdout). */
async function waitForLogLine(path: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    for (const line of stack.vigil.logLines()) {
      if (!line.includes(path)) continue;
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.path === path) return parsed;
    }
    if (Date.now() > deadline) throw new Error(`no decision log line for ${path}`);
    await Bun.sleep(50);
  }
}
