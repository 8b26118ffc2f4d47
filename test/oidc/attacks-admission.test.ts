/**
 * OIDC admission, step-up and account linking under attack, against the real IdP process: who
 * may sign in, which IdP answers may upgrade a session, and which IdP account may become which
 * Vigil user. Every refusal must leave no session behind.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { CookieAgent } from "../helpers/cookie-agent.ts";
import { signIn } from "../helpers/vigil.ts";
import {
  APP,
  deliver,
  expectRefused,
  sessionCookieOf,
  sessionsOf,
  stack,
  untilCallback,
  useAttackStack,
} from "./attack-kit.ts";
import { ALICE, APP_HOST, authAs, ERIN, MALLORY, PROVIDER_ID, TRENT } from "./harness.ts";

// A real IdP and two Vigil replicas: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

useAttackStack();

describe("admission rules", () => {
  test("an email domain outside allowed_domains is refused", async () => {
    const { callback, flowCookie } = await untilCallback("domains", MALLORY);
    await expectRefused(await deliver(callback, flowCookie), 403, "domain_not_allowed");
    expect(await sessionsOf("mallory")).toBe(0);
  }, 60_000);

  test("an IdP account outside allowed_groups is refused", async () => {
    const { callback, flowCookie } = await untilCallback("groups", MALLORY);
    await expectRefused(await deliver(callback, flowCookie), 403, "group_not_allowed");
  }, 60_000);

  test("provisioning: existing refuses a user Vigil does not know, and creates none", async () => {
    await stack.a.stores.users.delete("mallory");
    const { callback, flowCookie } = await untilCallback("existing", MALLORY);
    await expectRefused(await deliver(callback, flowCookie), 403, "unknown_user");
    expect(await stack.a.stores.users.get("mallory")).toBeUndefined();
  }, 60_000);

  test("a suspended user is refused", async () => {
    await stack.a.stores.users.put({
      id: "mallory",
      displayName: "m",
      status: "suspended",
      groups: [],
      createdAt: 0,
    });
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, MALLORY);
    await expectRefused(await deliver(callback, flowCookie), 403, "account_inactive");
    await stack.a.stores.users.delete("mallory");
  }, 60_000);
});

describe("step-up through the IdP", () => {
  async function signedInAlice(): Promise<{ token: string; agent: CookieAgent }> {
    const { callback, flowCookie, agent } = await untilCallback(PROVIDER_ID, ALICE);
    const response = await deliver(callback, flowCookie);
    const token = sessionCookieOf(response);
    if (token === undefined) throw new Error("sign-in failed");
    agent.setCookie(stack.origin, "vigil_session", token);
    return { token, agent };
  }
  const stepUpPath = `/oidc/${PROVIDER_ID}/login?stepup=1&rd=${encodeURIComponent(APP)}`;
  const ADMIN = `http://${APP_HOST}/admin/x`;

  test("an acr weaker than asked (pwd when mfa was asked) does not upgrade the session", async () => {
    const { token, agent } = await signedInAlice();
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE, {
      acr: "pwd",
      path: stepUpPath,
      agent,
    });
    await expectRefused(
      await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` }),
      403,
      "acr_not_satisfied",
    );
    expect((await authAs(stack.a, ADMIN, token)).status).toBe(302); // still asked to step up
  }, 60_000);

  test("an auth_time older than the step-up (the IdP did not re-authenticate) does not upgrade it", async () => {
    const { token, agent } = await signedInAlice();
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE, {
      acr: "mfa",
      path: stepUpPath,
      agent,
    });
    await stack.idp.tamperNextIdToken({ claims: { auth_time: Math.floor(Date.now() / 1000) - 3600 } });
    await expectRefused(
      await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` }),
      403,
      "auth_time_stale",
    );
    expect((await authAs(stack.a, ADMIN, token)).status).toBe(302);
  }, 60_000);

  test("a step-up answered by another IdP account is refused", async () => {
    const { token, agent } = await signedInAlice();
    agent.clearCookies();
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, MALLORY, {
      acr: "mfa",
      path: stepUpPath,
      agent,
      cookie: token,
    });
    await expectRefused(
      await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` }),
      403,
      "different_user",
    );
    expect((await authAs(stack.a, ADMIN, token)).status).toBe(302);
  }, 60_000);

  test("a passkey session is not stepped up by an IdP account never linked to its user", async () => {
    // erin exists in Vigil with a passkey session only; the IdP has an account named "erin" too.
    const { token } = await signIn(stack.a.stores, { id: "erin" }, Date.now());
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ERIN, {
      acr: "mfa",
      path: stepUpPath,
      cookie: token,
    });
    await expectRefused(
      await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` }),
      403,
      "different_user",
    );
    expect((await authAs(stack.a, ADMIN, token)).status).toBe(302);
    expect(await stack.a.stores.federation.userOfSubject(PROVIDER_ID, ERIN.sub)).toBeUndefined();
  }, 60_000);

  test("a rule with via: [idp] sends the browser to a step-up page offering only the IdP", async () => {
    const { token } = await signedInAlice();
    const challenge = await authAs(stack.a, `http://${APP_HOST}/sso-only/x`, token);
    expect(challenge.status).toBe(302);
    const location = new URL(challenge.headers.get("location") ?? "");
    expect(location.searchParams.get("via")).toBe("idp");
    const page = await fetch(`${stack.a.url}${location.pathname}${location.search}`, {
      headers: { cookie: `vigil_session=${token}`, accept: "text/html" },
    });
    const html = await page.text();
    expect(html).toContain(`data-provider="${PROVIDER_ID}"`);
    expect(html).not.toContain('id="start"');
  }, 60_000);

  test("the asked acr and a fresh auth_time upgrade it (control)", async () => {
    const { token, agent } = await signedInAlice();
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE, {
      acr: "mfa",
      path: stepUpPath,
      agent,
    });
    const response = await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` });
    expect(response.status).toBe(302);
    const stepped = sessionCookieOf(response);
    const allowed = await authAs(stack.a, ADMIN, stepped);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-auth-acr")).toBe("mfa");
  }, 60_000);
});

describe("account linking", () => {
  test("a different IdP account claiming a linked user's name is refused", async () => {
    // alice signs in once: her Vigil user is now linked to ALICE.sub.
    const own = await untilCallback(PROVIDER_ID, ALICE);
    expect((await deliver(own.callback, own.flowCookie)).status).toBe(302);
    // An IdP account renamed to "alice" later is not her (an account no other test links, so the
    // answer does not depend on which tests ran before).
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, TRENT);
    // Trent's token, re-signed by the IdP with preferred_username "alice": a rename at the IdP.
    await stack.idp.tamperNextIdToken({ claims: { preferred_username: "alice" } });
    const before = await sessionsOf("alice");
    await expectRefused(await deliver(callback, flowCookie), 403, "user_taken");
    expect(await sessionsOf("alice")).toBe(before);
  }, 60_000);
});

describe("account linking, the other way", () => {
  test("a linked IdP account renamed to a new name creates no user and no session", async () => {
    const own = await untilCallback(PROVIDER_ID, ALICE);
    expect((await deliver(own.callback, own.flowCookie)).status).toBe(302);
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE);
    // ALICE's own account, now carrying another user name at the IdP (jit would create it).
    await stack.idp.tamperNextIdToken({ claims: { preferred_username: "alice-renamed" } });
    await expectRefused(await deliver(callback, flowCookie), 403, "subject_taken");
    expect(await stack.a.stores.users.get("alice-renamed")).toBeUndefined();
  }, 60_000);
});
