/**
 * One look, in a real Chromium: the portal pages, the relayed 403 and the HTML error pages share
 * the stylesheet (light and dark), show the product name with the configured title and logo, pass
 * axe-core (no serious or critical violations) and trigger no CSP refusal. API clients keep JSON.
 *
 * The application host is answered the way a forwardAuth proxy does it: each navigation asks
 * Vigil's /auth and, when refused, relays Vigil's status, headers and body to the browser
 * (test/e2e/proxy.test.ts drives the same contract through a real Caddy).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { DARK, LIGHT } from "../../src/http/ui/stylesheet.ts";
import { SESSION_COOKIE } from "../../src/session/cookie.ts";
import { hasChromium, launchChromium } from "../helpers/browser.ts";
import { checkPage, watchCspViolations } from "../helpers/page-checks.ts";
import { signIn } from "../helpers/vigil.ts";
import { APP_HOST, COOKIE_DOMAIN, forwardAuthHeaders, type Portal, startPortal } from "../portal/harness.ts";

const STEP_TIMEOUT = 15_000;
const ACCESS_HELP = "Ask the IT desk (#it-help) to add you to the finance group.";
const POLICY = `
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: finance, hosts: ["${APP_HOST}"], paths: ["/finance/**"], groups: [finance], action: authenticated }
  - { name: app, hosts: ["*.${COOKIE_DOMAIN}"], action: authenticated }
default: deny
`;

const rgb = (hex: string) =>
  `rgb(${[1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(", ")})`;

describe.skipIf(!hasChromium())("one look", () => {
  let portal: Portal;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cspRefusals: string[];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-logo-"));
    const logo = join(dir, "logo.svg");
    writeFileSync(
      logo,
      '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><circle cx="16" cy="16" r="14" fill="#1d4ed8"/></svg>',
    );
    portal = await startPortal({
      policy: POLICY,
      config: { ui: { title: "Example Corp", logo_path: logo, access_help: ACCESS_HELP } },
    });
    // A page answered through context.route has no network address, so Chromium's local-network
    // checks would treat the portal's loopback logo as a private-network fetch from a public page.
    browser = await launchChromium(STEP_TIMEOUT, ["--disable-features=LocalNetworkAccessChecks"]);
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    cspRefusals = watchCspViolations(page);
    // The forwardAuth proxy in front of the application host.
    await context.route(`http://${APP_HOST}:*/**`, async (route) => {
      const request = route.request();
      const cookie = (await context.cookies(request.url())).map((c) => `${c.name}=${c.value}`).join("; ");
      const headers = forwardAuthHeaders(request.url(), cookie || undefined);
      // A proxy that forwards a garbled host (the 400 page).
      if (new URL(request.url()).pathname === "/garbled") headers["X-Forwarded-Host"] = "bad host";
      const answer = await fetch(`${portal.url}/auth`, { headers, redirect: "manual" });
      if (answer.status === 200) {
        await route.fulfill({
          status: 200,
          contentType: "text/html",
          body: "<!doctype html><title>app</title><h1>app</h1>",
        });
        return;
      }
      await route.fulfill({
        status: answer.status,
        headers: Object.fromEntries(answer.headers),
        body: Buffer.from(await answer.arrayBuffer()),
      });
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await portal?.close();
  });

  const bodyBackground = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

  test("the sign-in page: shared stylesheet in both themes, title and logo, accessible", async () => {
    await page.goto(`${portal.origin}/login`);
    await expect(page.locator("header.brand").textContent()).resolves.toContain("VigilExample Corp");
    expect(await page.title()).toBe("Sign in · Example Corp");
    const logoWidth = await page
      .locator("header.brand img")
      .evaluate((img) => (img as HTMLImageElement).naturalWidth);
    expect(logoWidth).toBe(32);
    expect(await bodyBackground()).toBe(rgb(LIGHT.background));
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await bodyBackground()).toBe(rgb(DARK.background));
    await page.emulateMedia({ colorScheme: "light" });
    expect(await checkPage(page, "login")).toEqual([]);
    expect(cspRefusals).toEqual([]);
  }, 60_000);

  test("403 on an application host: why in words, who is signed in, a way out, the access help", async () => {
    const { token } = await signIn(portal.stores, { id: "alice", groups: ["staff"] }, Date.now());
    await context.addCookies([
      {
        name: SESSION_COOKIE,
        value: token,
        domain: `.${COOKIE_DOMAIN}`,
        path: "/",
        httpOnly: true,
        sameSite: "Lax",
      },
    ]);
    const port = new URL(portal.origin).port;
    const response = await page.goto(`http://${APP_HOST}:${port}/finance/report`);
    expect(response?.status()).toBe(403);
    await expect(page.locator("h1").textContent()).resolves.toBe("Access denied");
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).toContain("only for members of a group your account is not in");
    expect(text).toContain("signed in as alice");
    expect(text).toContain(ACCESS_HELP);
    expect(text).toContain("group_required");
    expect(await page.locator("main a").getAttribute("href")).toBe(`${portal.origin}/`);
    const logo = page.locator("header.brand img");
    expect(await logo.getAttribute("src")).toStartWith(`${portal.origin}/assets/logo.`);
    expect(await logo.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(32);
    expect(await bodyBackground()).toBe(rgb(LIGHT.background));
    expect(await checkPage(page, "denied-403")).toEqual([]);
    expect(cspRefusals).toEqual([]);
    await context.clearCookies();
  }, 60_000);

  test("404 and an expired link are pages for browsers; API clients keep JSON", async () => {
    const missing = await page.goto(`${portal.origin}/no/such/page`);
    expect(missing?.status()).toBe(404);
    await expect(page.locator("h1").textContent()).resolves.toBe("Page not found");
    expect(await checkPage(page, "not-found-404")).toEqual([]);

    const expired = await page.goto(`${portal.origin}/enroll/not-a-real-token`);
    expect(expired?.status()).toBe(410);
    await expect(page.locator("h1").textContent()).resolves.toContain("can't be used");
    expect(await bodyBackground()).toBe(rgb(LIGHT.background));
    expect(await checkPage(page, "expired-link")).toEqual([]);
    expect(cspRefusals).toEqual([]);

    const api = await fetch(`${portal.url}/no/such/page`, { headers: { accept: "application/json" } });
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: "not_found" });
  }, 60_000);

  test("the 400 page in the browser: same look, accessible", async () => {
    const port = new URL(portal.origin).port;
    const response = await page.goto(`http://${APP_HOST}:${port}/garbled`);
    expect(response?.status()).toBe(400);
    await expect(page.locator("h1").textContent()).resolves.toBe("Bad request");
    expect(await bodyBackground()).toBe(rgb(LIGHT.background));
    expect(await checkPage(page, "bad-request-400")).toEqual([]);
    expect(cspRefusals).toEqual([]);
  }, 60_000);

  test("/auth: a malformed request is a 400 page for a browser and JSON for an API client", async () => {
    const headers = forwardAuthHeaders(`http://${APP_HOST}/x`, undefined);
    headers["X-Forwarded-Host"] = "bad host\\name";
    const html = await fetch(`${portal.url}/auth`, { headers });
    expect(html.status).toBe(400);
    expect(html.headers.get("content-type")).toContain("text/html");
    const body = await html.text();
    expect(body).toContain("Bad request");
    const nonce = /style-src 'nonce-([^']+)'/.exec(html.headers.get("content-security-policy") ?? "")?.[1];
    expect(nonce).toBeDefined();
    expect(body).toContain(`<style nonce="${nonce}">`);

    const json = await fetch(`${portal.url}/auth`, { headers: { ...headers, Accept: "application/json" } });
    expect(json.status).toBe(400);
    expect((await json.json()).error).toBe("bad_request");
  });
});
