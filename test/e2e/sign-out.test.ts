/**
 * The portal's own "Sign out" buttons, in a real headless Chromium: the form post must pass the
 * portal's CSRF check under the pages' own referrer policy, and end the session (the next /auth
 * is no longer 200) — from the signed-in page and from the step-up page ("Not you? Sign out").
 * A form post to /logout from another origin (a sibling subdomain, and another site) is still
 * refused and the session survives it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { SESSION_COOKIE } from "../../src/session/cookie.ts";
import { mintEnrollment } from "../../src/webauthn/enrollment.ts";
import { CHROMIUM, openPasskeyBrowser, runCeremony, submitForm } from "../helpers/browser.ts";
import { APP_HOST, forwardAuthHeaders, type Portal, startPortal } from "../portal/harness.ts";

// Chromium with a virtual authenticator: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const STEP_TIMEOUT = 15_000;
const USER = "sam";

describe.skipIf(!existsSync(CHROMIUM))("Sign out in Chromium", () => {
  let portal: Portal;
  let attacker: ReturnType<typeof Bun.serve>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    portal = await startPortal();
    // Pages on other origins that post a sign-out form to the portal as soon as they load.
    attacker = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        new Response(
          `<!doctype html><title>attack</title>
           <form method="post" action="${portal.origin}/logout"><button>go</button></form>
           <script>document.forms[0].submit()</script>`,
          { headers: { "content-type": "text/html" } },
        ),
    });
    ({ browser, context, page } = await openPasskeyBrowser(STEP_TIMEOUT));
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    attacker?.stop(true);
    await portal?.close();
  });

  const appUrl = () => `http://${APP_HOST}:${attacker.port}/home`;

  async function sessionToken(): Promise<string | undefined> {
    return (await context.cookies(portal.origin)).find((cookie) => cookie.name === SESSION_COOKIE)?.value;
  }

  /** /auth as Traefik would call it for the app page, with this session token. */
  async function authStatus(token: string): Promise<number> {
    const response = await fetch(`${portal.url}/auth`, {
      headers: forwardAuthHeaders(appUrl(), `${SESSION_COOKIE}=${token}`),
      redirect: "manual",
    });
    await response.arrayBuffer();
    return response.status;
  }

  /** Submits the page's sign-out form by clicking its button; returns the /logout answer. */
  /** Clicks a sign-out button: the /logout answer's status and the heading of the page it shows. */
  const clickSignOut = (label: string) =>
    submitForm(page, page.getByRole("button", { name: label, exact: true }), "/logout");

  // Each test sets up the state it needs, so the tests pass alone (`-t`) and in any order.
  let enrollment: Promise<void> | undefined;
  /** The user's one passkey, enrolled by the first test that needs it; the browser is signed in after. */
  const enrollUser = () =>
    (enrollment ??= (async () => {
      const minted = await mintEnrollment(
        { stores: portal.stores, config: portal.config },
        { userId: USER, groups: ["staff"] },
        Date.now(),
      );
      await page.goto(minted.url);
      await runCeremony(page);
      await page.waitForURL(`${portal.origin}/`);
      await expect(page.locator("h1").textContent()).resolves.toContain("signed in");
    })());

  /** A signed-in browser: the session it holds while /auth still allows it, else a passkey sign-in. */
  async function ensureSignedIn(): Promise<void> {
    await enrollUser();
    const token = await sessionToken();
    if (token !== undefined && (await authStatus(token)) === 200) return;
    await page.goto(`${portal.origin}/login?rd=${encodeURIComponent(`${portal.origin}/`)}`);
    await runCeremony(page);
    await page.waitForURL(`${portal.origin}/`);
  }

  test("enroll: signed in, /auth allows", async () => {
    await enrollUser();
    await ensureSignedIn();
    const token = await sessionToken();
    expect(token).toBeDefined();
    expect(await authStatus(token as string)).toBe(200);
  }, 30_000);

  test("a sign-out form posted from another origin is refused; the session survives", async () => {
    await ensureSignedIn();
    const token = (await sessionToken()) as string;
    // A sibling subdomain (same site: the Lax cookie is sent) and another site.
    for (const host of [APP_HOST, "evil.localhost"]) {
      const [answer] = await Promise.all([
        page.waitForResponse((response) => new URL(response.url()).pathname === "/logout"),
        page.goto(`http://${host}:${attacker.port}/attack`),
      ]);
      expect({ host, status: answer.status() }).toEqual({ host, status: 403 });
      expect(await sessionToken()).toBe(token);
      expect(await authStatus(token)).toBe(200);
    }
  }, 30_000);

  test("the signed-in page's Sign out button ends the session", async () => {
    await ensureSignedIn();
    const token = (await sessionToken()) as string;
    await page.goto(`${portal.origin}/`);
    await expect(page.locator("h1").textContent()).resolves.toContain("signed in");
    expect(await clickSignOut("Sign out")).toEqual({ status: 200, heading: "You're signed out" });
    expect(await sessionToken()).toBeUndefined();
    // The session is gone from the store, not only from the browser.
    expect(await authStatus(token)).not.toBe(200);
  }, 30_000);

  test("the step-up page's 'Not you? Sign out' ends the session", async () => {
    await enrollUser();
    await context.clearCookies(); // a fresh sign-in, whatever an earlier test left
    await page.goto(`${portal.origin}/login?rd=${encodeURIComponent(`${portal.origin}/`)}`);
    await runCeremony(page);
    await page.waitForURL(`${portal.origin}/`);
    const token = (await sessionToken()) as string;
    expect(await authStatus(token)).toBe(200);

    await page.goto(`${portal.origin}/stepup?rd=${encodeURIComponent(appUrl())}`);
    await expect(page.locator("h1").textContent()).resolves.toContain("Confirm it");
    expect(await clickSignOut("Not you? Sign out")).toEqual({ status: 200, heading: "You're signed out" });
    expect(await authStatus(token)).not.toBe(200);
  }, 30_000);
});
