/**
 * The whole journey against a real IdP (oidc-provider, own process) in a real Chromium: sign in
 * at the IdP → /auth 200 with X-Auth-* from the claims → a step-up route → re-authentication at
 * the IdP with the asked acr → 200 with the new acr → a passkey registered right after the fresh
 * IdP sign-in → the IdP ends its session (back-channel logout to replica A) → the next /auth on
 * replica B is not 200; and /logout sends the browser on to the IdP's end_session_endpoint.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { sessionIdFromToken } from "../../src/session/token.ts";
import { addVirtualAuthenticator, launchChromium, runCeremony } from "../helpers/browser.ts";
import { ALICE, APP_HOST, authAs, type OidcStack, PROVIDER_ID, startOidcStack } from "./harness.ts";

// A real IdP, Vigil replicas and Chromium: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const STEP_TIMEOUT = 15_000;

let stack: OidcStack;
let app: ReturnType<typeof Bun.serve>;
let appOrigin: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  stack = await startOidcStack();
  app = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request) =>
      new Response(`<!doctype html><title>app</title><h1>app page ${new URL(request.url).pathname}</h1>`, {
        headers: { "content-type": "text/html" },
      }),
  });
  appOrigin = `http://${APP_HOST}:${app.port}`;
  browser = await launchChromium(STEP_TIMEOUT);
}, 60_000);

/** A browser of the test's own (no cookies or IdP session from another test), with a virtual authenticator. */
async function freshBrowser(): Promise<void> {
  await context?.close().catch(() => {});
  context = await browser.newContext();
  page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await addVirtualAuthenticator(context, page);
}

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  app?.stop(true);
  await stack?.close();
});

async function sessionToken(): Promise<string | undefined> {
  const cookies = await context.cookies(stack.origin);
  return cookies.find((cookie) => cookie.name === "vigil_session")?.value;
}

test("IdP sign-in → claims on /auth → IdP step-up with acr → passkey → back-channel logout ends it on replica B", async () => {
  await freshBrowser();
  const reports = `${appOrigin}/reports`;
  const admin = `${appOrigin}/admin/settings`;

  // 1. Not signed in: the portal's sign-in page offers the IdP beside the passkey.
  expect((await authAs(stack.a, reports, undefined)).status).toBe(302);
  await page.goto(`${stack.origin}/login?rd=${encodeURIComponent(reports)}`);
  const button = page.locator(`a[data-provider=${PROVIDER_ID}]`);
  await expect(button.textContent()).resolves.toContain("Sign in with Corp IdP");
  await button.click();

  // 2. The IdP's own login and consent pages; then back through the callback to the app.
  await page.waitForURL((url) => url.href.startsWith(stack.idp.issuer));
  await stack.idp.signInWith(page, ALICE, "pwd");
  await page.waitForURL(reports);
  await expect(page.locator("h1").textContent()).resolves.toContain("app page /reports");

  // 3. /auth allows with the identity the IdP asserted; groups come from the groups claim.
  const token = await sessionToken();
  expect(token).toBeDefined();
  const allowed = await authAs(stack.a, reports, token);
  expect(allowed.status).toBe(200);
  expect(allowed.headers.get("x-auth-user")).toBe("alice");
  expect(allowed.headers.get("x-auth-groups")?.split(",").sort()).toEqual(["admins", "staff"]);
  // The IdP sends acr only when asked for one (acr_values); a plain sign-in is acr "idp".
  expect(allowed.headers.get("x-auth-acr")).toBe("idp");
  expect(allowed.headers.get("x-auth-amr")?.split(",")[0]).toBe("fed");
  const session = (await stack.a.stores.sessions.listByUser("alice"))[0];
  expect(session?.federation).toEqual({ provider: PROVIDER_ID, subject: ALICE.sub, sid: expect.any(String) });
  expect(session?.federation?.sid).not.toBe("");

  // 4. The step-up route: the page offers the IdP; it asks for a new login with acr_values=mfa.
  const challenge = await authAs(stack.a, admin, token);
  expect(challenge.status).toBe(302);
  await page.goto(challenge.headers.get("location") ?? "");
  const stepUp = page.locator(`a[data-provider=${PROVIDER_ID}]`);
  await expect(stepUp.textContent()).resolves.toContain("Verify with Corp IdP");
  await stepUp.click();
  await page.waitForURL((url) => url.href.startsWith(stack.idp.issuer));
  await expect(page.locator("#asked").textContent()).resolves.toContain("mfa");
  await stack.idp.signInWith(page, ALICE, "mfa");
  await page.waitForURL(admin);

  // 5. 200 with the new acr; the session was rotated, the pre-step-up token is dead.
  const stepped = await sessionToken();
  expect(stepped).not.toBe(token);
  const adminAllowed = await authAs(stack.a, admin, stepped);
  expect(adminAllowed.status).toBe(200);
  expect(adminAllowed.headers.get("x-auth-acr")).toBe("mfa");
  expect(adminAllowed.headers.get("x-auth-amr")?.split(",")[0]).toBe("fed");
  expect((await authAs(stack.a, reports, token)).status).not.toBe(200);

  // 6. Right after the fresh IdP sign-in, the user may register a passkey without a link.
  await page.goto(`${stack.origin}/`);
  await page.locator("#add-passkey").click();
  await page.waitForLoadState("domcontentloaded");
  await page.waitForURL((url) => url.pathname.startsWith("/enroll/"));
  await runCeremony(page);
  await page.waitForURL(`${stack.origin}/`);
  expect(await stack.a.stores.credentials.listByUser("alice")).toHaveLength(1);
  // The passkey session that registration started is still tied to the IdP session.
  const enrolled = await sessionToken();
  const enrolledSession = await stack.a.stores.sessions.get(sessionIdFromToken(enrolled ?? ""));
  expect(enrolledSession?.federation?.provider).toBe(PROVIDER_ID);

  // 6b. Later step-ups can use the passkey.
  const passkeyChallenge = await authAs(stack.a, `${appOrigin}/admin/keys`, enrolled);
  expect(passkeyChallenge.status).toBe(302);
  await page.goto(passkeyChallenge.headers.get("location") ?? "");
  await runCeremony(page);
  await page.waitForURL(`${appOrigin}/admin/keys`);
  const passkeyStepped = await authAs(stack.a, `${appOrigin}/admin/keys`, await sessionToken());
  expect(passkeyStepped.status).toBe(200);
  expect(passkeyStepped.headers.get("x-auth-acr")).toBe("phr");

  // 7. Sign in through the IdP again (the passkey registration started a passkey session).
  await page.goto(`${stack.origin}/oidc/${PROVIDER_ID}/login?rd=${encodeURIComponent(reports)}`);
  await page.waitForURL(reports); // the IdP session is still live: no login page
  const federated = await sessionToken();
  expect((await authAs(stack.b, reports, federated)).status).toBe(200);

  // 8. The user signs out at the IdP: it posts a logout token to replica A's back-channel
  //    endpoint; replica B, which shares the store, no longer lets the session through.
  await page.goto(`${stack.idp.issuer}/session/end`);
  await page.locator("button[name=logout][value=yes]").click();
  await page.waitForLoadState("domcontentloaded");
  expect(await stack.idp.lastLogoutToken()).toBeDefined();
  const after = await authAs(stack.b, reports, federated);
  expect(after.status).not.toBe(200);
  expect(after.status).toBe(302);
}, 120_000);

test("/logout of an IdP session sends the browser on to the IdP's end_session_endpoint", async () => {
  const reports = `${appOrigin}/reports`;
  await freshBrowser();
  await page.goto(`${stack.origin}/oidc/${PROVIDER_ID}/login?rd=${encodeURIComponent(reports)}`);
  await page.waitForURL((url) => url.href.startsWith(stack.idp.issuer));
  await stack.idp.signInWith(page, ALICE, "pwd");
  await page.waitForURL(reports);
  const token = await sessionToken();
  expect((await authAs(stack.a, reports, token)).status).toBe(200);

  await page.goto(`${stack.origin}/`);
  await page.locator("form[action='/logout'] button").click();
  await page.waitForURL((url) => url.href.startsWith(`${stack.idp.issuer}/session/end`));
  expect((await authAs(stack.a, reports, token)).status).not.toBe(200);
}, 60_000);
