/**
 * Headless Chromium for end-to-end tests: the launch flags every e2e test uses, a CDP virtual
 * authenticator (ctap2, internal, resident keys, user verification, automatic presence) so
 * passkey ceremonies need no human, and the click that starts a portal ceremony.
 */
import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** True when the Chromium binary is installed (CI installs it). */
export const hasChromium = (): boolean => existsSync(CHROMIUM);

/** extraArgs: more command-line switches (e.g. --ignore-certificate-errors-spki-list=…). */
export async function launchChromium(timeoutMs: number, extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: timeoutMs,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Chromium already maps *.localhost to loopback; pin it to the IPv4 address the servers bind.
      "--host-resolver-rules=MAP *.localhost 127.0.0.1",
      ...extraArgs,
    ],
  });
}

/**
 * Chromium with one context and one page (default timeout `timeoutMs`) that has a virtual
 * authenticator: what a passkey journey test starts from.
 */
export async function openPasskeyBrowser(
  timeoutMs: number,
  extraArgs: string[] = [],
): Promise<{ browser: Browser; context: BrowserContext; page: Page }> {
  const browser = await launchChromium(timeoutMs, extraArgs);
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  await addVirtualAuthenticator(context, page);
  return { browser, context, page };
}

/** Attaches a virtual platform authenticator to the page's context; it answers every ceremony. */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable", { enableUI: false });
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}

/** Clicks the portal page's ceremony button (enroll, sign in or step-up) once the script enabled it. */
export async function runCeremony(page: Page): Promise<void> {
  const button = page.locator("#start");
  await button.waitFor({ state: "visible" });
  if (!(await button.isEnabled())) throw new Error("the ceremony button is disabled");
  await button.click();
}

/**
 * Clicks a form's submit button and waits until the page it posts to has loaded: the answer's
 * status and the new page's first heading. Reading the heading only after the load (not through a
 * locator racing the navigation) is what makes a slow machine give the same answer as a fast one;
 * a failure names the URL and the text the browser shows.
 */
export async function submitForm(
  page: Page,
  button: ReturnType<Page["locator"]>,
  path: string,
): Promise<{ status: number; heading: string | undefined }> {
  const lands = (url: URL) => url.pathname === path;
  const [response] = await Promise.all([
    page.waitForResponse((answer) => lands(new URL(answer.url()))),
    page.waitForURL(lands, { waitUntil: "load" }),
    button.click(),
  ]);
  await page.waitForLoadState("load");
  const heading = await page.evaluate(() => document.querySelector("h1")?.textContent ?? undefined);
  if (heading === undefined) {
    const text = await page.evaluate(() => document.body?.textContent?.trim().slice(0, 500) ?? "");
    throw new Error(
      `no heading after posting to ${path}: at ${page.url()}, the page shows ${JSON.stringify(text)}`,
    );
  }
  return { status: response.status(), heading };
}
