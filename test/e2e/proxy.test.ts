/**
 * End to end through a REAL reverse proxy: Caddy's forward_auth (traefik/Caddyfile.example, the
 * mirror of the Traefik middlewares "vigil" and "vigil-stepup") in front of an in-process Vigil
 * (real Redis) and a tiny upstream app that prints the X-Auth-* headers it receives. A headless
 * Chromium with a virtual authenticator walks the whole journey: enroll, anonymous → sign-in →
 * app page with the identity Caddy copied → /admin demands a step-up → passkey → acr "phr" → the
 * admin revokes the sessions → the next page load is sent to sign-in. Also: a client-forged
 * X-Auth-User never reaches the app, a bypass route passes X-Auth-Rule alone (no placeholder text,
 * no client copy), and a hostile rd never lands off-site.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { AUTH_RESPONSE_HEADERS } from "../../src/http/forward-auth/headers.ts";
import { SESSION_COOKIE } from "../../src/session/cookie.ts";
import { mintEnrollment } from "../../src/webauthn/enrollment.ts";
import { CHROMIUM, openPasskeyBrowser, runCeremony } from "../helpers/browser.ts";
import { freeLoopbackPort } from "../helpers/free-port.ts";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

// A real Caddy and Chromium: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const CADDY = process.env.CADDY_PATH ?? "/usr/bin/caddy";
const CADDYFILE_EXAMPLE = join(import.meta.dir, "../../traefik/Caddyfile.example");
const STEP_TIMEOUT = 10_000;
const COOKIE_DOMAIN = "vigil.localhost";
const PORTAL_HOST = `auth.${COOKIE_DOMAIN}`;
const APP_HOST = `app.${COOKIE_DOMAIN}`;
const USER = "alice";

const POLICY = `
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: public, hosts: ["${APP_HOST}"], paths: ["/public/**"], action: bypass }
  - { name: admin, hosts: ["${APP_HOST}"], paths: ["/admin", "/admin/**"], groups: [admins], action: stepup, max_age: 5m }
  - { name: app, hosts: ["*.${COOKIE_DOMAIN}"], action: authenticated }
default: deny
`;

const missing = [CADDY, CHROMIUM].filter((path) => !existsSync(path));
if (missing.length > 0) {
  console.warn(
    `test/e2e/proxy.test.ts SKIPPED: ${missing.join(" and ")} not installed ` +
      "(apt-get install -y caddy chromium; CI installs both)",
  );
}

/** What the upstream app saw: the path and every X-Auth-* header (null = absent). */
interface Seen {
  path: string;
  headers: Record<string, string | null>;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

describe.skipIf(missing.length > 0)("through Caddy forward_auth", () => {
  let vigil: TestVigil;
  let upstream: ReturnType<typeof Bun.serve>;
  let caddy: Subprocess<"ignore", "ignore", "pipe"> | undefined;
  let caddyLog = "";
  let caddyDir: string;
  let caddyPort: number;
  let portalOrigin: string;
  let appOrigin: string;
  let adminToken: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const seen: Seen[] = [];
  /** Page loads that reached the app (Chromium's own /favicon.ico requests arrive at any time). */
  const pages = () => seen.filter((request) => request.path !== "/favicon.ico");

  /** A request to Caddy's listener for one of its hosts (Bun's fetch keeps the Host header). */
  const viaCaddy = (host: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${caddyPort}${path}`, {
      headers: { host: `${host}:${caddyPort}`, ...headers },
      redirect: "manual",
    });

  const shown = (header: string) => page.locator(`#${header.toLowerCase()}`).textContent();

  beforeAll(async () => {
    caddyPort = await freeLoopbackPort();
    portalOrigin = `http://${PORTAL_HOST}:${caddyPort}`;
    appOrigin = `http://${APP_HOST}:${caddyPort}`;
    adminToken = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url"); // 32 chars

    vigil = await startVigil({
      config: {
        public_url: portalOrigin,
        cookie: { domain: COOKIE_DOMAIN },
        trusted_proxies: ["127.0.0.1/32", "::1/128"],
        admin: { token: adminToken },
      },
      policyText: POLICY,
      // Real time: sessions, challenges and step-up ages move as they would in production.
      deps: { clock: () => Date.now() },
    });

    // The protected application: prints what reached it, escaped. Every request is recorded.
    upstream = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(request) {
        const path = new URL(request.url).pathname;
        const headers = Object.fromEntries(
          AUTH_RESPONSE_HEADERS.map((name) => [name.toLowerCase(), request.headers.get(name)]),
        );
        seen.push({ path, headers });
        const rows = Object.entries(headers)
          .map(([name, value]) => `<dt>${name}</dt><dd id="${name}">${escapeHtml(value ?? "(absent)")}</dd>`)
          .join("");
        return new Response(
          `<!doctype html><title>app</title><h1>app page ${escapeHtml(path)}</h1><dl>${rows}</dl>`,
          { headers: { "content-type": "text/html; charset=utf-8" } },
        );
      },
    });

    // The committed example, with test-only global options in front (plain http on loopback).
    caddyDir = mkdtempSync(join(tmpdir(), "vigil-caddy-"));
    const caddyfile = join(caddyDir, "Caddyfile");
    const example = await Bun.file(CADDYFILE_EXAMPLE).text();
    await Bun.write(caddyfile, `{\n\tauto_https off\n\tadmin off\n\tdefault_bind 127.0.0.1\n}\n\n${example}`);
    caddy = Bun.spawn([CADDY, "run", "--config", caddyfile, "--adapter", "caddyfile"], {
      cwd: caddyDir,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        // Caddy autosaves its config and keeps its storage under these: keep them in the temp dir.
        HOME: caddyDir,
        XDG_CONFIG_HOME: caddyDir,
        XDG_DATA_HOME: caddyDir,
        VIGIL_PORTAL_SITE: portalOrigin,
        APP_SITE: appOrigin,
        VIGIL_ADDRESS: new URL(vigil.url).host,
        APP_ADDRESS: `127.0.0.1:${upstream.port}`,
      },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    // Drain Caddy's log so the pipe never fills; shown when something fails.
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of caddy.stderr) caddyLog += decoder.decode(chunk);
    })();
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (caddy.exitCode !== null) throw new Error(`caddy exited with ${caddy.exitCode}:\n${caddyLog}`);
      const answer = await viaCaddy(PORTAL_HOST, "/login").catch(() => undefined);
      if (answer?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`caddy did not answer within 10 s:\n${caddyLog}`);
      await Bun.sleep(50);
    }

    ({ browser, context, page } = await openPasskeyBrowser(STEP_TIMEOUT));
  }, 30_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    if (caddy !== undefined) {
      caddy.kill("SIGKILL");
      await caddy.exited;
    }
    upstream?.stop(true);
    await vigil?.close();
    if (caddyDir !== undefined) rmSync(caddyDir, { recursive: true, force: true });
  });

  async function sessionCookie(origin: string) {
    return (await context.cookies(origin)).find((cookie) => cookie.name === SESSION_COOKIE);
  }

  // Each test sets up the state it needs, so the tests pass alone (`-t`) and in any order.
  let enrollment: Promise<void> | undefined;
  /** The user's one passkey, enrolled through Caddy's portal site by the first test that needs it. */
  const enrollUser = () =>
    (enrollment ??= (async () => {
      const minted = await mintEnrollment(
        { stores: vigil.stores, config: vigil.config },
        { userId: USER, groups: ["admins"] },
        Date.now(),
      );
      expect(minted.url.startsWith(`${portalOrigin}/enroll/`)).toBe(true);
      // Enrollment through Caddy's portal site (no forward_auth there).
      await page.goto(minted.url);
      expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
      await runCeremony(page);
      await page.waitForURL(`${portalOrigin}/`);
      await expect(page.locator("h1").textContent()).resolves.toContain("signed in");
    })());

  /** A fresh passkey sign-in in the browser, through Caddy. */
  async function signInWithPasskey(): Promise<void> {
    await enrollUser();
    await context.clearCookies();
    const home = `${appOrigin}/home`;
    await page.goto(home);
    await page.waitForURL(`${portalOrigin}/login?rd=${encodeURIComponent(home)}`);
    await runCeremony(page);
    await page.waitForURL(home);
  }

  /** A signed-in browser: the session it holds while Vigil still accepts it, else a new sign-in. */
  async function ensureSignedIn(): Promise<void> {
    const token = (await sessionCookie(appOrigin))?.value;
    const live =
      token !== undefined &&
      (
        await viaCaddy(APP_HOST, "/home", {
          accept: "application/json",
          cookie: `${SESSION_COOKIE}=${token}`,
        })
      ).status === 200;
    if (!live) await signInWithPasskey();
  }

  test("enroll, then anonymous → sign-in → the app page shows the identity Caddy copied", async () => {
    await enrollUser();

    // Sign-in must be real: forget the enrollment's session.
    await context.clearCookies();
    const home = `${appOrigin}/home`;
    const before = pages().length;
    await page.goto(home);
    // Caddy passed Vigil's 302 (an absolute Location) to the browser; the app never saw the request.
    await page.waitForURL(`${portalOrigin}/login?rd=${encodeURIComponent(home)}`);
    expect(pages().length).toBe(before);

    await runCeremony(page);
    await page.waitForURL(home);
    await expect(page.locator("h1").textContent()).resolves.toBe("app page /home");
    await expect(shown("X-Auth-User")).resolves.toBe(USER);
    await expect(shown("X-Auth-Acr")).resolves.toBe("passkey");
    await expect(shown("X-Auth-Groups")).resolves.toBe("admins");
    await expect(shown("X-Auth-Rule")).resolves.toBe("app");
    expect((await shown("X-Auth-Amr"))?.split(",")).toContain("hwk");

    // The portal host set the cookie for the parent domain; Chromium sends it to the app host.
    const cookie = await sessionCookie(appOrigin);
    expect(cookie?.domain).toBe(`.${COOKIE_DOMAIN}`);
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Lax");
  }, 30_000);

  test("/admin goes through vigil-stepup: step-up page, passkey, then acr phr with mfa", async () => {
    await signInWithPasskey();
    const admin = `${appOrigin}/admin/panel`;
    const before = pages().length;
    await page.goto(admin);
    await page.waitForURL(`${portalOrigin}/stepup?rd=${encodeURIComponent(admin)}`);
    expect(pages().length).toBe(before);
    await expect(page.locator("h1").textContent()).resolves.toContain("Confirm it");

    await runCeremony(page);
    await page.waitForURL(admin);
    await expect(page.locator("h1").textContent()).resolves.toBe("app page /admin/panel");
    await expect(shown("X-Auth-User")).resolves.toBe(USER);
    await expect(shown("X-Auth-Acr")).resolves.toBe("phr");
    await expect(shown("X-Auth-Rule")).resolves.toBe("admin");
    expect((await shown("X-Auth-Amr"))?.split(",")).toContain("mfa");
    const last = pages().at(-1);
    expect(last?.path).toBe("/admin/panel");
    expect(last?.headers["x-auth-acr"]).toBe("phr");
  }, 30_000);

  test("the portal host publishes only the portal: /auth, /admin, /metrics and probes stay internal", async () => {
    for (const path of ["/auth", "/admin/users", "/metrics", "/readyz", "/healthz"]) {
      const answer = await viaCaddy(PORTAL_HOST, path, { authorization: `Bearer ${adminToken}` });
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
    expect((await viaCaddy(PORTAL_HOST, "/login")).status).toBe(200);
  });

  test("a client-forged X-Auth-User never reaches the app as that user", async () => {
    await ensureSignedIn();
    const forged = {
      "X-Auth-User": "mallory",
      "X-Auth-Groups": "admins",
      "X-Auth-Acr": "phr",
      "X-Auth-Amr": "hwk,user,mfa",
    };
    // From the signed-in browser: Caddy's copy_headers overwrites the client's values.
    await page.setExtraHTTPHeaders(forged);
    try {
      await page.goto(`${appOrigin}/home`);
      await expect(page.locator("h1").textContent()).resolves.toBe("app page /home");
      await expect(shown("X-Auth-User")).resolves.toBe(USER);
    } finally {
      await page.setExtraHTTPHeaders({});
    }

    // Signed in by cookie, on a path the forged header targets.
    const token = (await sessionCookie(appOrigin))?.value as string;
    const withSession = await viaCaddy(APP_HOST, "/home", {
      ...forged,
      accept: "text/html",
      cookie: `${SESSION_COOKIE}=${token}`,
    });
    expect(withSession.status).toBe(200);
    expect(await withSession.text()).toContain(`<dd id="x-auth-user">${USER}</dd>`);

    // `uri /auth?`: the app URL's own query never becomes Vigil's address options (?group=,
    // ?stepup=); were it to leak, this request would be denied for lacking group "nobody".
    const ownQuery = await viaCaddy(APP_HOST, "/home?group=nobody&stepup=0", {
      accept: "text/html",
      cookie: `${SESSION_COOKIE}=${token}`,
    });
    expect(ownQuery.status).toBe(200);
    expect(await ownQuery.text()).toContain(`<dd id="x-auth-user">${USER}</dd>`);

    // Anonymous: the forged header buys a redirect to sign-in (or a 401), never the app.
    const before = pages().length;
    const page302 = await viaCaddy(APP_HOST, "/home", { ...forged, accept: "text/html" });
    expect(page302.status).toBe(302);
    expect(page302.headers.get("location")).toStartWith(`${portalOrigin}/login?rd=`);
    const api401 = await viaCaddy(APP_HOST, "/admin/panel", { ...forged, accept: "application/json" });
    expect(api401.status).toBe(401);
    expect(pages().length).toBe(before);

    // Whatever reached the app, none of it carried the forged user.
    expect(pages().length).toBeGreaterThan(0);
    for (const request of seen) expect(request.headers["x-auth-user"]).not.toBe("mallory");
  }, 30_000);

  test("a bypass route: the app gets X-Auth-Rule only, never a placeholder or a client's X-Auth-*", async () => {
    await ensureSignedIn();
    const forged = Object.fromEntries(AUTH_RESPONSE_HEADERS.map((name) => [name, `forged-${name}`]));
    const token = (await sessionCookie(appOrigin))?.value as string;
    for (const cookie of [undefined, `${SESSION_COOKIE}=${token}`]) {
      const answer = await viaCaddy(APP_HOST, "/public/logo.svg", {
        ...forged,
        accept: "text/html",
        ...(cookie ? { cookie } : {}),
      });
      expect(answer.status).toBe(200);
      await answer.text();
      // The last page load (Chromium's own /favicon.ico requests may arrive after it).
      const last = pages().at(-1);
      expect(last?.path).toBe("/public/logo.svg");
      // Vigil answers a bypass with X-Auth-Rule alone; every other listed name arrives absent.
      const { "x-auth-rule": rule, ...identity } = last?.headers ?? {};
      expect(rule).toBe("public");
      expect(identity).toEqual(
        Object.fromEntries(
          AUTH_RESPONSE_HEADERS.filter((name) => name !== "X-Auth-Rule").map((name) => [
            name.toLowerCase(),
            null,
          ]),
        ),
      );
    }
    // Across everything the app received in this file: no placeholder text, no client value.
    const tainted = seen.flatMap((request) =>
      Object.entries(request.headers)
        .filter(([, value]) => value !== null && (value.includes("{") || value.startsWith("forged-")))
        .map(([name, value]) => `${request.path} ${name}: ${value}`),
    );
    expect(tainted).toEqual([]);
  });

  test("a hostile rd never lands off-site", async () => {
    await ensureSignedIn();
    const hostile = [
      "https://evil.example/steal",
      "//evil.example/",
      `http://${APP_HOST}.evil.example/`,
      `http://evil.example@${APP_HOST}:${caddyPort}/`,
      "javascript:alert(1)",
    ];
    for (const rd of hostile) {
      const login = await viaCaddy(PORTAL_HOST, `/login?rd=${encodeURIComponent(rd)}`);
      expect(login.status).toBe(200);
      expect(/data-rd="([^"]*)"/.exec(await login.text())?.[1]).toBe(`${portalOrigin}/`);
    }

    // In the browser: a step-up with a hostile rd ends on the portal, not on evil.example.
    await page.goto(`${portalOrigin}/stepup?rd=${encodeURIComponent(hostile[0] as string)}`);
    await runCeremony(page);
    await page.waitForURL(`${portalOrigin}/`);
    expect(new URL(page.url()).host).toBe(`${PORTAL_HOST}:${caddyPort}`);

    // A path that looks like a URL stays a path of the app inside rd.
    const anonymous = await viaCaddy(APP_HOST, "//evil.example/x", { accept: "text/html" });
    expect(anonymous.status).toBe(302);
    const location = new URL(anonymous.headers.get("location") ?? "");
    expect(location.origin).toBe(portalOrigin);
    expect(new URL(location.searchParams.get("rd") ?? "").origin).toBe(appOrigin);
  }, 30_000);

  test("the admin revokes the user's sessions: the next page load is sent to sign-in", async () => {
    await ensureSignedIn();
    await page.goto(`${appOrigin}/home`);
    await expect(shown("X-Auth-User")).resolves.toBe(USER);

    const unauthorized = await fetch(`${vigil.url}/admin/users/${USER}/sessions`, { method: "DELETE" });
    expect(unauthorized.status).toBe(401);
    const revoked = await fetch(`${vigil.url}/admin/users/${USER}/sessions`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(revoked.status).toBe(200);

    const before = pages().length;
    const home = `${appOrigin}/home`;
    await page.goto(home);
    await page.waitForURL(`${portalOrigin}/login?rd=${encodeURIComponent(home)}`);
    expect(pages().length).toBe(before);
  }, 30_000);
});

test("Caddyfile.example copies every X-Auth-* header and never leaks the app's query to /auth", async () => {
  const example = await Bun.file(CADDYFILE_EXAMPLE).text();
  const copies = [...example.matchAll(/^\s*copy_headers\s+(.+)$/gm)].map((match) =>
    match[1]?.trim().split(/\s+/),
  );
  expect(copies.length).toBe(2);
  for (const names of copies) expect(names?.toSorted()).toEqual([...AUTH_RESPONSE_HEADERS].toSorted());
  const uris = [...example.matchAll(/^\s*uri\s+(\S+)$/gm)].map((match) => match[1]);
  expect(uris.toSorted()).toEqual(["/auth?", "/auth?stepup=300"]);
  // Every forward_auth sits in a route between the two cleanups: client X-Auth-* stripped before
  // (Caddy 2.9-2.11.1 keep a client's copy of a name Vigil did not send), placeholders dropped after.
  expect(example.match(/route \{\s*import vigil_strip_client_headers\s*forward_auth /g)?.length).toBe(2);
  expect(example.match(/\}\s*import vigil_drop_unsent_headers\s*reverse_proxy /g)?.length).toBe(2);
  expect(example.match(/^\s*forward_auth /gm)?.length).toBe(2);
  const dropped = [...example.matchAll(/^\s*request_header @vigil_unsent_\w+ -(\S+)$/gm)].map(
    (match) => match[1],
  );
  expect(dropped.toSorted()).toEqual([...AUTH_RESPONSE_HEADERS].toSorted());
});
