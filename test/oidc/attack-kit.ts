/**
 * What the OIDC attack files share: one real IdP, two Vigil replicas and Chromium per file, and
 * the steps of an attack: sign in at the IdP for real, capture the callback the browser would
 * follow, and deliver it (as is, altered, or twice) with the browser's flow cookie.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import type { IdpUserSpec } from "../helpers/oidc-idp.ts";
import { APP_HOST, type OidcStack, startOidcStack } from "./harness.ts";

export const STEP_TIMEOUT = 15_000;
export const APP = `http://${APP_HOST}/reports`;

/** The stack and browser of the running file (set by useAttackStack's beforeAll). */
export let stack: OidcStack;
export let browser: Browser;

/** Starts the IdP, two replicas and Chromium before the calling file's tests; stops them after. */
export function useAttackStack(): void {
  beforeAll(async () => {
    stack = await startOidcStack({
      extraProviders: [
        { id: "domains", allowed_domains: ["example.com"] },
        { id: "groups", allowed_groups: ["staff"] },
        { id: "existing", provisioning: "existing" },
        { id: "down", issuer: "http://127.0.0.1:9" },
      ],
      // Every test starts flows from 127.0.0.1: lift the per-address start limit for this file.
      config: { regulation: { max_starts: 10_000 } },
    });
    browser = await launchChromium(STEP_TIMEOUT);
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await stack?.close();
  });
}

export interface Captured {
  /** The callback URL the IdP sent the browser to (never loaded by the browser). */
  callback: URL;
  /** The browser's vigil_oidc flow cookie. */
  flowCookie: string;
  context: BrowserContext;
  page: Page;
}

/** A fresh browser: signs in at the IdP through `provider` and stops at the callback. */
export async function untilCallback(
  provider: string,
  user: IdpUserSpec,
  options: { acr?: "pwd" | "mfa"; path?: string; context?: BrowserContext; cookie?: string } = {},
): Promise<Captured> {
  const context = options.context ?? (await browser.newContext());
  if (options.cookie) {
    await context.addCookies([{ name: "vigil_session", value: options.cookie, url: stack.origin }]);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  let resolveCallback: (url: URL) => void = () => {};
  const captured = new Promise<URL>((resolve) => {
    resolveCallback = resolve;
  });
  // Playwright's page.route does not see redirect hops; the DevTools Fetch domain does.
  const cdp = await context.newCDPSession(page);
  cdp.on("Fetch.requestPaused", (event: { requestId: string; request: { url: string } }) => {
    resolveCallback(new URL(event.request.url));
    void cdp.send("Fetch.failRequest", { requestId: event.requestId, errorReason: "Aborted" });
  });
  await cdp.send("Fetch.enable", {
    patterns: [{ urlPattern: `${stack.origin}/oidc/${provider}/callback*`, requestStage: "Request" }],
  });
  const path = options.path ?? `/oidc/${provider}/login?rd=${encodeURIComponent(APP)}`;
  await page.goto(`${stack.origin}${path}`).catch(() => {});
  const login = page.locator("input[name=username]");
  const atLogin = await Promise.race([
    captured.then(() => false),
    login.waitFor({ state: "visible" }).then(() => true),
  ]);
  if (atLogin) await stack.idp.signInWith(page, user, options.acr ?? "pwd");
  const callback = await captured;
  const cookies = await context.cookies(`${stack.origin}/oidc/`);
  const flowCookie = cookies.find((c) => c.name === "vigil_oidc")?.value ?? "";
  return { callback, flowCookie, context, page };
}

/** Delivers a callback to replica A as the browser would (with its flow cookie). */
export function deliver(
  callback: URL,
  flowCookie: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  const cookie = [flowCookie ? `vigil_oidc=${flowCookie}` : "", extra.cookie ?? ""]
    .filter(Boolean)
    .join("; ");
  return fetch(`${stack.a.url}${callback.pathname}${callback.search}`, {
    headers: { accept: "text/html", ...extra, cookie },
    redirect: "manual",
  });
}

export const sessionCookieOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .find((c) => c.startsWith("vigil_session=") && !c.startsWith("vigil_session=;"))
    ?.split(";")[0]
    ?.slice("vigil_session=".length);

export async function expectRefused(response: Response, status: number, reason: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(sessionCookieOf(response)).toBeUndefined();
  const body = await response.text();
  expect(body).toContain(`<code id="reason">${reason}</code>`);
}

export async function sessionsOf(user: string): Promise<number> {
  return (await stack.a.stores.sessions.listByUser(user)).length;
}
