/**
 * End to end in a real headless Chromium with a CDP virtual authenticator (ctap2, internal,
 * resident keys, user verification): enroll from a minted link, sign in, pass /auth as Traefik
 * would, get sent to step-up on a stepup rule, pass it, land on rd, and see /auth allow with the
 * upgraded acr/amr while the pre-step-up session token no longer works.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { mintEnrollment } from "../../src/webauthn/enrollment.ts";
import { openPasskeyBrowser, runCeremony } from "../helpers/browser.ts";
import { APP_HOST, forwardAuthHeaders, type Portal, startPortal } from "../portal/harness.ts";

// Chromium with a virtual authenticator: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const STEP_TIMEOUT = 15_000;

let portal: Portal;
let appServer: ReturnType<typeof Bun.serve>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let appOrigin: string;

beforeAll(async () => {
  portal = await startPortal();
  // The protected application behind Traefik: any page it serves says where it is.
  appServer = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request) =>
      new Response(`<!doctype html><title>app</title><h1>app page ${new URL(request.url).pathname}</h1>`, {
        headers: { "content-type": "text/html" },
      }),
  });
  appOrigin = `http://${APP_HOST}:${appServer.port}`;
  ({ browser, context, page } = await openPasskeyBrowser(STEP_TIMEOUT));
}, 60_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  appServer?.stop(true);
  await portal?.close();
});

async function sessionCookie(): Promise<string | undefined> {
  const cookies = await context.cookies(portal.origin);
  return cookies.find((cookie) => cookie.name === "vigil_session")?.value;
}

function auth(url: string, token: string | undefined): Promise<Response> {
  return fetch(`${portal.url}/auth`, {
    headers: forwardAuthHeaders(url, token === undefined ? undefined : `vigil_session=${token}`),
    redirect: "manual",
  });
}

test("enroll, sign in, /auth, step-up, /auth with upgraded claims; the old session is rotated away", async () => {
  // *.localhost resolves to loopback in Chromium and is a secure context (WebAuthn without TLS).
  const minted = await mintEnrollment(
    { stores: portal.stores, config: portal.config },
    { userId: "alice", groups: ["staff"] },
    Date.now(),
  );
  expect(minted.url.startsWith(`${portal.origin}/enroll/`)).toBe(true);

  // 1. Enrollment: registers the passkey and signs in; rd defaults to the portal's own page.
  await page.goto(minted.url);
  expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
  await expect(page.locator("h1").textContent()).resolves.toContain("Create your passkey");
  await runCeremony(page);
  await page.waitForURL(`${portal.origin}/`);
  await expect(page.locator("h1").textContent()).resolves.toContain("signed in");
  const [credential] = await portal.stores.credentials.listByUser("alice");
  expect(credential?.deviceType).toBe("singleDevice");
  expect(credential?.backedUp).toBe(false);

  // The link was single use.
  const reused = await page.goto(minted.url);
  expect(reused?.status()).toBe(410);

  // 2. Sign in from scratch with the discoverable passkey, returning to the app.
  await context.clearCookies();
  const home = `${appOrigin}/home`;
  await page.goto(`${portal.origin}/login?rd=${encodeURIComponent(home)}`);
  await runCeremony(page);
  await page.waitForURL(home);
  await expect(page.locator("h1").textContent()).resolves.toBe("app page /home");

  const cookies = await context.cookies(portal.origin);
  const cookie = cookies.find((c) => c.name === "vigil_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.domain).toBe(".vigil.localhost");
  expect(cookie?.sameSite).toBe("Lax");
  const signedIn = cookie?.value;
  expect(signedIn).toBeDefined();

  // 3. /auth as Traefik calls it: an authenticated rule allows.
  const allowed = await auth(home, signedIn);
  expect(allowed.status).toBe(200);
  expect(allowed.headers.get("x-auth-user")).toBe("alice");
  expect(allowed.headers.get("x-auth-acr")).toBe("passkey");
  expect(allowed.headers.get("x-auth-amr")).toBe("hwk,user,mfa");

  // 4. A stepup rule sends the browser to the portal's step-up page.
  const admin = `${appOrigin}/admin/panel?x=1`;
  const challenge = await auth(admin, signedIn);
  expect(challenge.status).toBe(302);
  const location = challenge.headers.get("location") ?? "";
  expect(location).toBe(`${portal.origin}/stepup?rd=${encodeURIComponent(admin)}`);

  // 5. Step-up in the browser, landing back on rd.
  await page.goto(location);
  await expect(page.locator("h1").textContent()).resolves.toContain("Confirm it");
  await runCeremony(page);
  await page.waitForURL(admin);
  await expect(page.locator("h1").textContent()).resolves.toBe("app page /admin/panel");

  // 6. /auth now allows the stepup rule with the upgraded claims, on the rotated session only.
  const rotated = await sessionCookie();
  expect(rotated).toBeDefined();
  expect(rotated).not.toBe(signedIn);
  const upgraded = await auth(admin, rotated);
  expect(upgraded.status).toBe(200);
  expect(upgraded.headers.get("x-auth-user")).toBe("alice");
  expect(upgraded.headers.get("x-auth-acr")).toBe("phr");
  expect(upgraded.headers.get("x-auth-amr")?.split(",")).toContain("mfa");

  const old = await auth(admin, signedIn);
  expect(old.status).toBe(302);
  expect(old.headers.get("location")).toStartWith(`${portal.origin}/login?rd=`);

  // The signature counter moved forward with each assertion.
  const [used] = await portal.stores.credentials.listByUser("alice");
  expect(used?.lastUsedAt).toBeGreaterThan(0);

  // Nothing secret reached the log.
  const log = portal.logLines.join("");
  expect(log).not.toContain(minted.token);
  expect(log).not.toContain(signedIn as string);
  expect(log).not.toContain(rotated as string);
}, 90_000);
