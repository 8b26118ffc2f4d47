/**
 * The admin console in a real Chromium with a virtual authenticator, against a real Redis: an admin
 * passes the passkey check, watches the overview move, finds a user, sets groups, suspends and
 * resumes them, mints a recovery link (with its QR code), reads the audit trail and deletes the
 * user. Authorization: a non-admin gets nothing, cross-origin posts are refused, a stale passkey
 * check sends the admin to step-up, and a revoked admin session loses the console on the next click.
 * axe-core passes on every console page. The tests share one browser; each signs in the admin it
 * needs (adminInConsole) and makes its own users, so they pass alone and in any order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { mintEnrollment } from "../../src/webauthn/enrollment.ts";
import { hasChromium, openPasskeyBrowser, runCeremony, submitForm } from "../helpers/browser.ts";
import { checkPage, watchCspViolations } from "../helpers/page-checks.ts";
import { signIn } from "../helpers/vigil.ts";
import { APP_HOST, forwardAuthHeaders, type Portal, startPortal } from "../portal/harness.ts";

const STEP_TIMEOUT = 15_000;

describe.skipIf(!hasChromium())("admin console", () => {
  let portal: Portal;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cspRefusals: string[];
  /** The admin the browser is signed in as, passkey-checked for the console (see adminInConsole). */
  let admin: string | undefined;
  let admins = 0;

  beforeAll(async () => {
    portal = await startPortal();
    ({ browser, context, page } = await openPasskeyBrowser(STEP_TIMEOUT));
    cspRefusals = watchCspViolations(page);
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await portal?.close();
  });

  const auth = (path: string, token: string | undefined) =>
    fetch(`${portal.url}/auth`, {
      headers: forwardAuthHeaders(`http://${APP_HOST}${path}`, token ? `vigil_session=${token}` : undefined),
      redirect: "manual",
    });
  const figure = async (id: string) => Number(await page.locator(`#${id}`).textContent());

  /** Enrolls a new admin in the browser and passes the console's passkey check; its user id. */
  async function enrollAdmin(): Promise<string> {
    const id = `root-${++admins}`;
    const minted = await mintEnrollment(
      { stores: portal.stores, config: portal.config },
      { userId: id, groups: ["admins"] },
      Date.now(),
    );
    await page.goto(minted.url);
    await runCeremony(page);
    await page.waitForURL(`${portal.origin}/`);
    await page.goto(`${portal.origin}/console`);
    await page.waitForURL(/\/stepup\?rd=/);
    await runCeremony(page);
    await page.waitForURL(`${portal.origin}/console`);
    admin = id;
    return id;
  }

  /** The browser on the console as an admin: the one signed in already if the console still answers. */
  async function adminInConsole(): Promise<string> {
    if (admin !== undefined) {
      await page.goto(`${portal.origin}/console`);
      if (page.url() === `${portal.origin}/console`) return admin;
    }
    return enrollAdmin();
  }

  test("enrolled admin: the console asks for a passkey check, then shows the overview, which moves", async () => {
    // enrollAdmin: enroll, open /console, sent to the passkey check, pass it, back on /console.
    await enrollAdmin();
    await expect(page.locator("h1").textContent()).resolves.toBe("Overview");
    const before = await figure("decisions-total");

    // Traffic through /auth: allowed, refused (no identity) and a step-up challenge.
    const { token } = await signIn(portal.stores, { id: "tim", groups: ["staff"] }, Date.now());
    for (let i = 0; i < 5; i++) expect((await auth("/home", token)).status).toBe(200);
    expect((await auth("/home", undefined)).status).toBe(302);
    expect((await auth("/admin/x", token)).status).toBe(302);
    await page.reload();
    expect(await figure("decisions-total")).toBe(before + 7);
    // More samples: bursts of allowed and denied requests (a host no rule covers: default deny).
    for (let burst = 0; burst < 3; burst++) {
      await Bun.sleep(300);
      for (let i = 0; i < 4 + burst * 3; i++) await auth("/home", token);
      for (let i = 0; i <= burst; i++) {
        const denied = await fetch(`${portal.url}/auth`, {
          headers: forwardAuthHeaders("http://other.localhost/x", `vigil_session=${token}`),
          redirect: "manual",
        });
        expect(denied.status).toBe(403);
      }
      await page.reload();
    }
    expect(await page.locator("#deny-title").textContent()).toContain("rule_denied 6");
    expect(await figure("stepup-challenges")).toBeGreaterThanOrEqual(1);
    await expect(page.locator("svg.chart .line-allow polyline").count()).resolves.toBe(1);
    expect(await checkPage(page, "console-overview")).toEqual([]);
  }, 90_000);

  test("find a user, set groups, suspend and resume: effective on /auth at once, audited", async () => {
    const root = await adminInConsole();
    const { token: bobToken } = await signIn(portal.stores, { id: "bob", groups: ["staff"] }, Date.now());
    await page.getByLabel("Find a user").fill("bo");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/\/console\/users\?q=bo/);
    await page.getByRole("link", { name: "bob" }).click();
    await page.waitForURL(`${portal.origin}/console/users/bob`);
    expect(await checkPage(page, "console-user")).toEqual([]);

    await page.getByLabel("Groups (comma-separated)").fill("staff, finance");
    await page.getByRole("button", { name: "Save groups" }).click();
    await page.waitForURL(/m=groups_set/);
    expect((await portal.stores.users.get("bob"))?.groups).toEqual(["staff", "finance"]);

    expect((await auth("/home", bobToken)).status).toBe(200);
    await page.getByRole("button", { name: "Suspend" }).click();
    await page.waitForURL(/m=suspended/);
    await expect(page.locator("#user-status").textContent()).resolves.toBe("suspended");
    // Refused at once on every request, with the cause named; resume then ends the sessions.
    const refused = await auth("/home", bobToken);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("Your account is suspended");

    await page.getByRole("button", { name: "Resume" }).click();
    await page.waitForURL(/m=resumed/);
    await expect(page.locator("#user-status").textContent()).resolves.toBe("active");
    expect(await portal.stores.sessions.listByUser("bob")).toEqual([]);
    expect((await auth("/home", bobToken)).status).toBe(302);

    // The audit page lists the three changes, newest first, as this admin from the console.
    await page.getByRole("link", { name: "Audit" }).click();
    await page.waitForURL(`${portal.origin}/console/audit`);
    const rows = (await page.locator("tbody tr").allTextContents()).filter((row) => row.includes("bob"));
    expect(rows.slice(0, 3).map((row) => /(resume|suspend|set_groups)/.exec(row)?.[1])).toEqual([
      "resume",
      "suspend",
      "set_groups",
    ]);
    for (const row of rows.slice(0, 3)) expect(row).toContain(`${root} (console)`);
    expect(await checkPage(page, "console-audit")).toEqual([]);
  }, 60_000);

  test("a recovery link is shown once with its QR code and works; the audit trail records it, never the link", async () => {
    const root = await adminInConsole();
    await signIn(portal.stores, { id: "bea", groups: ["staff"] }, Date.now());
    await page.goto(`${portal.origin}/console/users/bea`);
    const button = page.getByRole("button", { name: "New recovery link" });
    const answer = await submitForm(page, button, "/console/users/bea/recovery");
    expect(answer).toEqual({ status: 200, heading: "Recovery link" });
    const link = (await page.locator("#minted-link").textContent()) ?? "";
    expect(link).toStartWith(`${portal.origin}/enroll/`);
    await expect(page.locator(".qr svg path").count()).resolves.toBeGreaterThan(0);
    expect(await checkPage(page, "console-link")).toEqual([]);
    expect((await fetch(`${portal.url}${new URL(link).pathname}`)).status).toBe(200);
    // The link never reaches the log or the audit trail.
    expect(portal.logLines.join("")).not.toContain(new URL(link).pathname);

    await page.getByRole("link", { name: "Audit" }).click();
    await page.waitForURL(`${portal.origin}/console/audit`);
    const rows = await page.locator("tbody tr").allTextContents();
    const minted = rows.find((row) => row.includes("mint_recovery") && row.includes("bea"));
    expect(minted).toContain(`${root} (console)`);
    expect(rows.join("\n")).not.toContain(new URL(link).pathname);
  }, 60_000);

  test("delete a user: a wrong confirmation changes nothing, the right one removes them", async () => {
    const root = await adminInConsole();
    await signIn(portal.stores, { id: "ben", groups: ["staff"] }, Date.now());
    await page.goto(`${portal.origin}/console/users/ben`);
    await page.getByLabel("Type ben to confirm").fill("benny");
    await page.getByRole("button", { name: "Delete user" }).click();
    await page.waitForURL(/m=confirm_mismatch/);
    expect(await portal.stores.users.get("ben")).toBeDefined();
    await page.getByLabel("Type ben to confirm").fill("ben");
    await page.getByRole("button", { name: "Delete user" }).click();
    await page.waitForURL(/\/console\/users\?m=user_deleted/);
    expect(await portal.stores.users.get("ben")).toBeUndefined();
    expect((await portal.stores.audit.recent(1))[0]).toMatchObject({
      action: "delete_user",
      target: "ben",
      actor: root,
      via: "console",
    });
    expect(cspRefusals).toEqual([]);
  }, 60_000);

  test("a non-admin gets nothing from the console, pages or actions", async () => {
    const { token } = await signIn(portal.stores, { id: "mallory", groups: ["staff"] }, Date.now(), {
      stepUpAt: Date.now(),
    });
    await signIn(portal.stores, { id: "rory", groups: ["admins"] }, Date.now());
    const cookie = `vigil_session=${token}`;
    for (const path of ["/console", "/console/users", "/console/users/rory", "/console/audit"]) {
      const answer = await fetch(`${portal.url}${path}`, { headers: { cookie, accept: "text/html" } });
      expect(answer.status).toBe(403);
      const body = await answer.text();
      expect(body).toContain("for administrators only");
      expect(body).not.toContain("rory");
    }
    const forged = await fetch(`${portal.url}/console/users/rory/suspend`, {
      method: "POST",
      headers: { cookie, origin: portal.origin, "content-type": "application/x-www-form-urlencoded" },
      body: "",
      redirect: "manual",
    });
    expect(forged.status).toBe(403);
    expect((await portal.stores.users.get("rory"))?.status).toBe("active");
  });

  test("cross-origin and cross-site posts are refused even with an admin's own cookie", async () => {
    await signIn(portal.stores, { id: "carl" }, Date.now());
    // An admin who passed the passkey check just now: the same post from the console's own
    // origin goes through (the control below), so each refusal is the origin check's.
    const { token } = await signIn(portal.stores, { id: "ada", groups: ["admins"] }, Date.now(), {
      stepUpAt: Date.now(),
    });
    const suspend = (headers: Record<string, string>) =>
      fetch(`${portal.url}/console/users/carl/suspend`, {
        method: "POST",
        headers: {
          cookie: `vigil_session=${token}`,
          "content-type": "application/x-www-form-urlencoded",
          ...headers,
        },
        body: "",
        redirect: "manual",
      });
    for (const headers of <Array<Record<string, string>>>[
      { origin: "https://evil.example" },
      { origin: portal.origin, "sec-fetch-site": "cross-site" },
      {},
    ]) {
      expect((await suspend(headers)).status).toBe(403);
    }
    expect((await portal.stores.users.get("carl"))?.status).toBe("active");
    expect((await suspend({ origin: portal.origin, "sec-fetch-site": "same-origin" })).status).toBe(303);
    expect((await portal.stores.users.get("carl"))?.status).toBe("suspended");
  });

  test("a stale passkey check goes back to step-up; a revoked admin session loses the console on the next click", async () => {
    const root = await adminInConsole();
    portal.clock.now = Date.now() + portal.config.console.stepup_max_age + 60_000;
    await page.getByRole("link", { name: "Users", exact: true }).click();
    await page.waitForURL(/\/stepup\?rd=/);
    portal.clock.now = undefined;

    await page.goto(`${portal.origin}/console`);
    await portal.stores.sessions.deleteByUser(root);
    await page.getByRole("link", { name: "Audit" }).click();
    await page.waitForURL(/\/login\?rd=/);
    await expect(page.locator("h1").textContent()).resolves.toBe("Sign in");
  }, 60_000);
});
