/**
 * /account in a real Chromium with virtual authenticators, against a real Redis: enroll, see the
 * passkey and this device's session, confirm with a passkey, add a second passkey from another
 * authenticator and sign in with it, rename and delete passkeys (never the last), sign out another
 * session and every other session (refused by /auth at once), all audited; cross-origin posts and
 * stale passkey checks are refused; axe-core passes on every state of the page. The tests share one
 * browser; each enrolls a user of its own with a fresh authenticator (enrolledUser), so they pass
 * alone and in any order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { mintEnrollment } from "../../src/webauthn/enrollment.ts";
import { hasChromium, launchChromium, runCeremony, submitForm } from "../helpers/browser.ts";
import { checkPage, watchCspViolations } from "../helpers/page-checks.ts";
import { APP_HOST, forwardAuthHeaders, type Portal, startPortal } from "../portal/harness.ts";

const STEP_TIMEOUT = 15_000;

describe.skipIf(!hasChromium())("account page", () => {
  let portal: Portal;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let cspRefusals: string[];
  let users = 0;

  const addAuthenticator = async (): Promise<string> => {
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return authenticatorId;
  };

  beforeAll(async () => {
    portal = await startPortal();
    browser = await launchChromium(STEP_TIMEOUT);
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    cspRefusals = watchCspViolations(page);
    cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable", { enableUI: false });
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await portal?.close();
  });

  const cookieToken = async () =>
    (await context.cookies(portal.origin)).find((c) => c.name === "vigil_session")?.value;
  const auth = (token: string) =>
    fetch(`${portal.url}/auth`, {
      headers: forwardAuthHeaders(`http://${APP_HOST}/home`, `vigil_session=${token}`),
      redirect: "manual",
    });
  /** A form post from inside the page (same origin, the browser's own headers). */
  const postFromPage = (path: string, fields: Record<string, string>) =>
    page.evaluate(
      async ([path, fields]) => {
        const answer = await fetch(path as string, {
          method: "POST",
          body: new URLSearchParams(fields as Record<string, string>),
          redirect: "follow",
        });
        return { status: answer.status, url: answer.url };
      },
      [path, fields] as const,
    );
  const otherSession = (userId: string, device: string) =>
    portal.stores.sessions.create(
      {
        userId,
        acr: "passkey",
        amr: ["hwk", "user", "mfa"],
        authAt: Date.now(),
        stepUpAt: 0,
        ip: "198.51.100.20",
        country: "FR",
        uaHash: "",
        device,
      },
      Date.now(),
      3600_000,
    );

  /**
   * A new user enrolled from an admin's link in the browser, with a fresh authenticator that holds
   * only this user's passkey: signed in, on the portal's home page. Its user id.
   */
  async function enrolledUser(): Promise<string> {
    const user = `alice-${++users}`;
    await removeAllAuthenticators();
    await addAuthenticator();
    await context.clearCookies();
    const minted = await mintEnrollment(
      { stores: portal.stores, config: portal.config },
      { userId: user, groups: ["staff"] },
      Date.now(),
    );
    await page.goto(minted.url);
    await runCeremony(page);
    await page.waitForURL(`${portal.origin}/`);
    return user;
  }

  /** On /account after a fresh passkey check: changes are allowed. */
  async function confirmedOnAccount(): Promise<void> {
    await page.goto(`${portal.origin}/account`);
    await page.getByRole("link", { name: "confirm it's you" }).click();
    await runCeremony(page);
    await page.waitForURL(`${portal.origin}/account`);
    await expect(page.locator("#start").isEnabled()).resolves.toBe(true);
  }

  /** A second passkey from another authenticator (the only one left in the browser). */
  async function addSecondPasskey(user: string): Promise<void> {
    // The first authenticator holds a passkey for this account already (excluded): use another.
    await removeAllAuthenticators();
    await addAuthenticator();
    await runCeremony(page);
    await page.waitForURL(/\/account\?m=added/);
    expect(await portal.stores.credentials.listByUser(user)).toHaveLength(2);
  }

  test("enroll, then the account page lists the passkey and this device; changes wait for a passkey check", async () => {
    await enrolledUser();
    await page.getByRole("link", { name: "Your passkeys and sessions" }).click();
    await page.waitForURL(`${portal.origin}/account`);

    const passkeys = page.locator("section[aria-labelledby=passkeys] tbody tr");
    await expect(passkeys.count()).resolves.toBe(1);
    expect(await passkeys.first().textContent()).toContain("This device only");
    const sessions = page.locator("section[aria-labelledby=sessions] tbody tr");
    await expect(sessions.count()).resolves.toBe(1);
    const row = (await sessions.first().textContent()) ?? "";
    expect(row).toContain("This device");
    expect(row).toMatch(/Chrome \d+ on Linux/);
    expect(row).toContain("passkey");
    // Not yet confirmed: no add, rename or delete, a way to confirm instead.
    await expect(page.locator("#start").count()).resolves.toBe(0);
    await expect(page.locator("input[name=name]").count()).resolves.toBe(0);
    expect(await checkPage(page, "account-unconfirmed")).toEqual([]);

    // The raw user agent is never logged.
    const userAgent = await page.evaluate(() => navigator.userAgent);
    expect(portal.logLines.join("")).not.toContain(userAgent);
  }, 90_000);

  test("confirm it's you, add a second passkey from another authenticator, sign in with it", async () => {
    const user = await enrolledUser();
    await confirmedOnAccount();
    await addSecondPasskey(user);
    await expect(page.locator("[role=status].notice").textContent()).resolves.toBe("Passkey added.");
    await expect(page.locator("section[aria-labelledby=passkeys] tbody tr").count()).resolves.toBe(2);
    expect(await checkPage(page, "account")).toEqual([]);

    // Sign in afresh: only the new authenticator is left, so the new passkey is the one used.
    await context.clearCookies();
    await page.goto(`${portal.origin}/login?rd=${encodeURIComponent(`${portal.origin}/account`)}`);
    await runCeremony(page);
    await page.waitForURL(`${portal.origin}/account`);
    expect(await cookieToken()).toBeDefined();
  }, 90_000);

  test("rename and delete passkeys after a fresh check, never the last one", async () => {
    const user = await enrolledUser();
    await confirmedOnAccount();
    await addSecondPasskey(user);
    const [older, newer] = await portal.stores.credentials.listByUser(user);

    const nameField = page.locator(`input[id="name-${newer?.id}"]`);
    await nameField.fill("Work laptop");
    await nameField.press("Enter");
    await page.waitForURL(/m=renamed/);
    expect(await page.locator("section[aria-labelledby=passkeys]").textContent()).toContain("Work laptop");
    expect((await portal.stores.credentials.get(newer?.id ?? ""))?.name).toBe("Work laptop");

    await page
      .locator(`form[action="/account/passkeys/${encodeURIComponent(older?.id ?? "")}/delete"] button`)
      .click();
    await page.waitForURL(/m=deleted/);
    expect(await portal.stores.credentials.listByUser(user)).toHaveLength(1);
    // The last passkey has no delete button, and a forged delete is refused with the reason.
    await expect(page.locator("button.danger", { hasText: "Delete" }).count()).resolves.toBe(0);
    const forged = await postFromPage(`/account/passkeys/${encodeURIComponent(newer?.id ?? "")}/delete`, {});
    expect(forged.url).toContain("m=last_passkey");
    expect(await portal.stores.credentials.listByUser(user)).toHaveLength(1);

    // A rename with a bad name changes nothing.
    const bad = await postFromPage(`/account/passkeys/${encodeURIComponent(newer?.id ?? "")}/rename`, {
      name: "x".repeat(65),
    });
    expect(bad.url).toContain("m=invalid_name");
    expect((await portal.stores.credentials.get(newer?.id ?? ""))?.name).toBe("Work laptop");
  }, 90_000);

  test("sign out another session and every other session: /auth refuses them at once", async () => {
    const user = await enrolledUser();
    await confirmedOnAccount();
    const tablet = await otherSession(user, "Safari 18 on iPadOS");
    await page.reload();
    expect(await page.locator("section[aria-labelledby=sessions]").textContent()).toContain(
      "Safari 18 on iPadOS",
    );
    expect((await auth(tablet.token)).status).toBe(200);
    await page.getByRole("button", { name: "Sign out Safari 18 on iPadOS" }).click();
    await page.waitForURL(/m=ended/);
    expect((await auth(tablet.token)).status).toBe(302);

    const [a, b] = [
      await otherSession(user, "Firefox 133 on Windows"),
      await otherSession(user, "Edge 131 on macOS"),
    ];
    await page.reload();
    await page.getByRole("button", { name: "Sign out everywhere else (2)" }).click();
    await page.waitForURL(/m=ended_others/);
    expect((await auth(a.token)).status).toBe(302);
    expect((await auth(b.token)).status).toBe(302);
    const mine = await cookieToken();
    expect((await auth(mine ?? "")).status).toBe(200);
    expect(await portal.stores.sessions.listByUser(user)).toHaveLength(1);
    expect(await checkPage(page, "account-sessions")).toEqual([]);
    expect(cspRefusals).toEqual([]);
  }, 90_000);

  test("cross-origin posts and stale passkey checks are refused and change nothing", async () => {
    const user = await enrolledUser();
    await confirmedOnAccount();
    const victim = await otherSession(user, "Chrome 131 on Android");
    const token = (await cookieToken()) ?? "";
    const [passkey] = await portal.stores.credentials.listByUser(user);
    const forged = await fetch(`${portal.url}/account/sessions/end-others`, {
      method: "POST",
      headers: {
        cookie: `vigil_session=${token}`,
        origin: "https://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "",
      redirect: "manual",
    });
    expect(forged.status).toBe(403);
    expect((await auth(victim.token)).status).toBe(200);
    /** A rename of the passkey posted with this session's cookie, from `portal.origin` unless `headers` say otherwise. */
    const rename = (name: string, headers: Record<string, string> = {}) =>
      fetch(`${portal.url}/account/passkeys/${passkey?.id}/rename`, {
        method: "POST",
        headers: {
          cookie: `vigil_session=${token}`,
          origin: portal.origin,
          "content-type": "application/x-www-form-urlencoded",
          ...headers,
        },
        body: new URLSearchParams({ name }),
        redirect: "manual",
      });
    expect((await rename("pwned", { "sec-fetch-site": "cross-site" })).status).toBe(403);

    // Past account.reauth_max_age the passkey check is stale: sent to step-up, nothing renamed.
    portal.clock.now = Date.now() + portal.config.account.reauth_max_age + 60_000;
    const stale = await rename("later");
    portal.clock.now = undefined;
    expect(stale.status).toBe(303);
    expect(stale.headers.get("location")).toStartWith("/stepup?rd=");
    expect((await portal.stores.credentials.get(passkey?.id ?? ""))?.name).toBe(passkey?.name);
    // The same post within the check's age goes through (the control).
    const fresh = await rename("later");
    expect(fresh.status).toBe(303);
    expect((await portal.stores.credentials.get(passkey?.id ?? ""))?.name).toBe("later");
  }, 60_000);

  test("every change is in the audit trail, as the user, from the account page", async () => {
    const user = await enrolledUser();
    await confirmedOnAccount();
    await addSecondPasskey(user);
    const [older, newer] = await portal.stores.credentials.listByUser(user);
    const rename = (name: string) =>
      postFromPage(`/account/passkeys/${encodeURIComponent(newer?.id ?? "")}/rename`, { name });
    expect((await rename("Work laptop")).url).toContain("m=renamed");
    expect((await rename("x".repeat(65))).url).toContain("m=invalid_name");
    const deleted = await postFromPage(`/account/passkeys/${encodeURIComponent(older?.id ?? "")}/delete`, {});
    expect(deleted.url).toContain("m=deleted");
    const last = await postFromPage(`/account/passkeys/${encodeURIComponent(newer?.id ?? "")}/delete`, {});
    expect(last.url).toContain("m=last_passkey");
    const tablet = await otherSession(user, "Safari 18 on iPadOS");
    expect((await postFromPage(`/account/sessions/${tablet.session.id}/end`, {})).url).toContain("m=ended");
    await otherSession(user, "Firefox 133 on Windows");
    expect((await postFromPage("/account/sessions/end-others", {})).url).toContain("m=ended_others");

    const records = (await portal.stores.audit.recent(200)).filter((r) => r.target === user);
    expect(records.map((r) => `${r.action}:${r.result}`)).toEqual([
      "end_other_sessions:ok",
      "end_session:ok",
      "delete_passkey:last_passkey",
      "delete_passkey:ok",
      "rename_passkey:invalid_name",
      "rename_passkey:ok",
      "add_passkey:ok",
    ]);
    for (const r of records) expect(r).toMatchObject({ actor: user, via: "account", ip: "127.0.0.1" });
  }, 90_000);

  test("the header's sign-out ends this session: /auth refuses its cookie at once", async () => {
    await enrolledUser();
    await page.goto(`${portal.origin}/account`);
    const token = (await cookieToken()) ?? "";
    expect((await auth(token)).status).toBe(200);
    const header = page.locator("header").getByRole("button", { name: "Sign out" });
    expect(await submitForm(page, header, "/logout")).toEqual({ status: 200, heading: "You're signed out" });
    expect((await auth(token)).status).toBe(302);
  }, 30_000);

  test("the signed-in home page's sign-out works too", async () => {
    await enrolledUser();
    await context.clearCookies();
    await page.goto(`${portal.origin}/login`);
    await runCeremony(page);
    await page.waitForURL(`${portal.origin}/`);
    const token = (await cookieToken()) ?? "";
    const origin = page
      .waitForRequest((r) => r.url().endsWith("/logout"))
      .then((r) => r.headerValue("origin"));
    const button = page.getByRole("button", { name: "Sign out" });
    expect(await submitForm(page, button, "/logout")).toEqual({ status: 200, heading: "You're signed out" });
    expect(await origin).toBe(portal.origin);
    expect((await auth(token)).status).toBe(302);
  }, 30_000);

  async function removeAllAuthenticators(): Promise<void> {
    // CDP has no "list": the ids come back from addVirtualAuthenticator; the test made one before.
    await cdp.send("WebAuthn.disable");
    await cdp.send("WebAuthn.enable", { enableUI: false });
  }
});
