/**
 * Attacks on the OIDC flow against the real IdP process: the browser signs in at the IdP for
 * real, the callback it would follow is captured, and the test delivers it (as is, altered, or
 * twice) with the browser's flow cookie. Tampered ID tokens come from the IdP's own token
 * endpoint (its test hook re-signs, strips or swaps the signature). Every refusal must leave no
 * session behind.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { generateKeyPair, importJWK, SignJWT } from "jose";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { sessionIdFromToken } from "../../src/session/token.ts";
import { launchChromium } from "../helpers/browser.ts";
import type { IdpUserSpec, IdTokenTamper } from "../helpers/oidc-idp.ts";
import { signIn } from "../helpers/vigil.ts";
import {
  ALICE,
  APP_HOST,
  authAs,
  CLIENT_SECRET,
  ERIN,
  MALLORY,
  type OidcStack,
  PROVIDER_ID,
  startOidcStack,
  TRENT,
} from "./harness.ts";

// A real IdP, Vigil replicas and Chromium: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const STEP_TIMEOUT = 15_000;
const APP = `http://${APP_HOST}/reports`;

let stack: OidcStack;
let browser: Browser;

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

interface Captured {
  /** The callback URL the IdP sent the browser to (never loaded by the browser). */
  callback: URL;
  /** The browser's vigil_oidc flow cookie. */
  flowCookie: string;
  context: BrowserContext;
  page: Page;
}

/** A fresh browser: signs in at the IdP through `provider` and stops at the callback. */
async function untilCallback(
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
function deliver(callback: URL, flowCookie: string, extra: Record<string, string> = {}): Promise<Response> {
  const cookie = [flowCookie ? `vigil_oidc=${flowCookie}` : "", extra.cookie ?? ""]
    .filter(Boolean)
    .join("; ");
  return fetch(`${stack.a.url}${callback.pathname}${callback.search}`, {
    headers: { accept: "text/html", ...extra, cookie },
    redirect: "manual",
  });
}

const sessionCookieOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .find((c) => c.startsWith("vigil_session=") && !c.startsWith("vigil_session=;"))
    ?.split(";")[0]
    ?.slice("vigil_session=".length);

async function expectRefused(response: Response, status: number, reason: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(sessionCookieOf(response)).toBeUndefined();
  const body = await response.text();
  expect(body).toContain(`<code id="reason">${reason}</code>`);
}

async function sessionsOf(user: string): Promise<number> {
  return (await stack.a.stores.sessions.listByUser(user)).length;
}

describe("the callback", () => {
  test("a genuine callback signs in once; the same callback replayed is refused", async () => {
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, ALICE);
    const first = await deliver(callback, flowCookie);
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe(APP);
    const token = sessionCookieOf(first);
    expect((await authAs(stack.a, APP, token)).status).toBe(200);
    const before = await sessionsOf("alice");
    await expectRefused(await deliver(callback, flowCookie), 400, "flow_missing");
    expect(await sessionsOf("alice")).toBe(before);
    // Neither the code, the state, the flow cookie, the session token nor the client secret is logged.
    const logs = stack.logLines.join("");
    expect(logs).toContain("oidc_signin");
    for (const secret of [
      callback.searchParams.get("code") ?? "-",
      callback.searchParams.get("state") ?? "-",
      flowCookie,
      token ?? "-",
      CLIENT_SECRET,
    ]) {
      expect(logs).not.toContain(secret);
    }
    await context.close();
  }, 60_000);

  test("a stolen code replayed in the attacker's own flow is refused by the IdP (code used, PKCE differs)", async () => {
    const victim = await untilCallback(PROVIDER_ID, ALICE);
    expect((await deliver(victim.callback, victim.flowCookie)).status).toBe(302);
    // The attacker starts a flow of their own and pastes the victim's code and their own state.
    const attacker = await untilCallback(PROVIDER_ID, MALLORY);
    const forged = new URL(attacker.callback);
    forged.searchParams.set("code", victim.callback.searchParams.get("code") ?? "");
    const before = await sessionsOf("alice");
    const response = await deliver(forged, attacker.flowCookie);
    expect(response.status).toBe(400);
    expect(sessionCookieOf(response)).toBeUndefined();
    expect(await sessionsOf("alice")).toBe(before);
    expect(await sessionsOf("mallory")).toBe(0);
    await victim.context.close();
    await attacker.context.close();
  }, 60_000);

  test("a state that is not this browser's flow's state is refused", async () => {
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, MALLORY);
    const forged = new URL(callback);
    forged.searchParams.set("state", "attacker-chosen-state-value-0123456789");
    await expectRefused(await deliver(forged, flowCookie), 400, "flow_mismatch");
    expect(await sessionsOf("mallory")).toBe(0);
    await context.close();
  }, 60_000);

  test("a callback without the flow cookie (login CSRF: the attacker's code in the victim's browser) is refused", async () => {
    const { callback, context } = await untilCallback(PROVIDER_ID, MALLORY);
    await expectRefused(await deliver(callback, ""), 400, "flow_missing");
    expect(await sessionsOf("mallory")).toBe(0);
    await context.close();
  }, 60_000);
});

describe("the flow's edges", () => {
  test("an rd off the known hosts falls back to the portal", async () => {
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, ALICE, {
      path: `/oidc/${PROVIDER_ID}/login?rd=${encodeURIComponent("https://evil.example/steal")}`,
    });
    const response = await deliver(callback, flowCookie);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${stack.origin}/`);
    await context.close();
  }, 60_000);

  test("adding a passkey without a link needs a fresh IdP sign-in and a same-origin form", async () => {
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, ALICE);
    const token = sessionCookieOf(await deliver(callback, flowCookie)) ?? "";
    await context.close();
    const add = (origin: string) =>
      fetch(`${stack.a.url}/oidc/passkey`, {
        method: "POST",
        headers: { cookie: `vigil_session=${token}`, origin, accept: "text/html" },
        redirect: "manual",
      });
    expect((await add("https://evil.example")).status).toBe(403);
    const fresh = await add(stack.origin);
    expect(fresh.status).toBe(303);
    expect(fresh.headers.get("location")).toStartWith(`${stack.origin}/enroll/`);
    // Older than passkey_enrollment_window: an admin link is needed again.
    const id = sessionIdFromToken(token);
    await stack.a.stores.sessions.update(id, { authAt: Date.now() - 10 * 60_000 });
    await expectRefused(await add(stack.origin), 403, "auth_time_stale");
  }, 60_000);

  test("flow starts are limited per client address (regulation.max_starts)", async () => {
    const limited = await startOidcStack({ config: { regulation: { max_starts: 2 } } });
    try {
      const start = () => fetch(`${limited.a.url}/oidc/${PROVIDER_ID}/login`, { redirect: "manual" });
      expect((await start()).status).toBe(302);
      expect((await start()).status).toBe(302);
      const third = await start();
      expect(third.status).toBe(429);
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(third.headers.get("set-cookie")).toBeNull();
    } finally {
      await limited.close();
    }
  }, 60_000);
});

describe("tampered ID tokens from the token endpoint", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => IdTokenTamper]> = [
    ["a nonce that is not the flow's", () => ({ claims: { nonce: "not-the-flow-nonce" } })],
    ["a wrong issuer", () => ({ claims: { iss: "https://evil.example" } })],
    ["a wrong audience", () => ({ claims: { aud: "someone-else" } })],
    ["an expired token", () => ({ claims: { iat: now() - 7200, exp: now() - 3600 } })],
    [
      "a token not yet valid",
      () => ({ claims: { iat: now() + 3600, nbf: now() + 3600, exp: now() + 7200 } }),
    ],
    ['alg "none"', () => ({ sign: "none" })],
    ["HS256 signed with the IdP's public key", () => ({ sign: "hs256-public-key" })],
    ["a key the IdP never published", () => ({ sign: "foreign-key" })],
    [
      "a subject swapped after signing",
      () => ({ claims: { sub: ALICE.sub, preferred_username: "alice" }, sign: "foreign-key" }),
    ],
  ];
  for (const [name, tamper] of cases) {
    test(`${name} is refused and signs no one in`, async () => {
      const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, MALLORY);
      await stack.idp.tamperNextIdToken(tamper());
      await expectRefused(await deliver(callback, flowCookie), 400, "token_invalid");
      expect(await sessionsOf("mallory")).toBe(0);
      await context.close();
    }, 60_000);
  }

  test("the same token re-signed by the IdP's own key (control: the tamper hook itself does not break tokens)", async () => {
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, MALLORY);
    await stack.idp.tamperNextIdToken({ sign: "rs256" });
    const response = await deliver(callback, flowCookie);
    expect(response.status).toBe(302);
    expect(sessionCookieOf(response)).toBeDefined();
    await stack.a.stores.sessions.deleteByUser("mallory");
    await context.close();
  }, 60_000);
});

describe("admission rules", () => {
  test("an email domain outside allowed_domains is refused", async () => {
    const { callback, flowCookie, context } = await untilCallback("domains", MALLORY);
    await expectRefused(await deliver(callback, flowCookie), 403, "domain_not_allowed");
    expect(await sessionsOf("mallory")).toBe(0);
    await context.close();
  }, 60_000);

  test("an IdP account outside allowed_groups is refused", async () => {
    const { callback, flowCookie, context } = await untilCallback("groups", MALLORY);
    await expectRefused(await deliver(callback, flowCookie), 403, "group_not_allowed");
    await context.close();
  }, 60_000);

  test("provisioning: existing refuses a user Vigil does not know, and creates none", async () => {
    await stack.a.stores.users.delete("mallory");
    const { callback, flowCookie, context } = await untilCallback("existing", MALLORY);
    await expectRefused(await deliver(callback, flowCookie), 403, "unknown_user");
    expect(await stack.a.stores.users.get("mallory")).toBeUndefined();
    await context.close();
  }, 60_000);

  test("a suspended user is refused", async () => {
    await stack.a.stores.users.put({
      id: "mallory",
      displayName: "m",
      status: "suspended",
      groups: [],
      createdAt: 0,
    });
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, MALLORY);
    await expectRefused(await deliver(callback, flowCookie), 403, "account_inactive");
    await stack.a.stores.users.delete("mallory");
    await context.close();
  }, 60_000);
});

describe("step-up through the IdP", () => {
  async function signedInAlice(): Promise<{ token: string; context: BrowserContext }> {
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, ALICE);
    const response = await deliver(callback, flowCookie);
    const token = sessionCookieOf(response);
    if (token === undefined) throw new Error("sign-in failed");
    await context.addCookies([{ name: "vigil_session", value: token, url: stack.origin }]);
    return { token, context };
  }
  const stepUpPath = `/oidc/${PROVIDER_ID}/login?stepup=1&rd=${encodeURIComponent(APP)}`;
  const ADMIN = `http://${APP_HOST}/admin/x`;

  test("an acr weaker than asked (pwd when mfa was asked) does not upgrade the session", async () => {
    const { token, context } = await signedInAlice();
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE, {
      acr: "pwd",
      path: stepUpPath,
      context,
    });
    await expectRefused(
      await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` }),
      403,
      "acr_not_satisfied",
    );
    expect((await authAs(stack.a, ADMIN, token)).status).toBe(302); // still asked to step up
    await context.close();
  }, 60_000);

  test("an auth_time older than the step-up (the IdP did not re-authenticate) does not upgrade it", async () => {
    const { token, context } = await signedInAlice();
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE, {
      acr: "mfa",
      path: stepUpPath,
      context,
    });
    await stack.idp.tamperNextIdToken({ claims: { auth_time: Math.floor(Date.now() / 1000) - 3600 } });
    await expectRefused(
      await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` }),
      403,
      "auth_time_stale",
    );
    expect((await authAs(stack.a, ADMIN, token)).status).toBe(302);
    await context.close();
  }, 60_000);

  test("a step-up answered by another IdP account is refused", async () => {
    const { token, context } = await signedInAlice();
    await context.clearCookies();
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, MALLORY, {
      acr: "mfa",
      path: stepUpPath,
      context,
      cookie: token,
    });
    await expectRefused(
      await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` }),
      403,
      "different_user",
    );
    expect((await authAs(stack.a, ADMIN, token)).status).toBe(302);
    await context.close();
  }, 60_000);

  test("a passkey session is not stepped up by an IdP account never linked to its user", async () => {
    // erin exists in Vigil with a passkey session only; the IdP has an account named "erin" too.
    const { token } = await signIn(stack.a.stores, { id: "erin" }, Date.now());
    const context = await browser.newContext();
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ERIN, {
      acr: "mfa",
      path: stepUpPath,
      context,
      cookie: token,
    });
    await expectRefused(
      await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` }),
      403,
      "different_user",
    );
    expect((await authAs(stack.a, ADMIN, token)).status).toBe(302);
    expect(await stack.a.stores.federation.userOfSubject(PROVIDER_ID, ERIN.sub)).toBeUndefined();
    await context.close();
  }, 60_000);

  test("a rule with via: [idp] sends the browser to a step-up page offering only the IdP", async () => {
    const { token, context } = await signedInAlice();
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
    await context.close();
  }, 60_000);

  test("the asked acr and a fresh auth_time upgrade it (control)", async () => {
    const { token, context } = await signedInAlice();
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE, {
      acr: "mfa",
      path: stepUpPath,
      context,
    });
    const response = await deliver(callback, flowCookie, { cookie: `vigil_session=${token}` });
    expect(response.status).toBe(302);
    const stepped = sessionCookieOf(response);
    const allowed = await authAs(stack.a, ADMIN, stepped);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-auth-acr")).toBe("mfa");
    await context.close();
  }, 60_000);
});

describe("account linking", () => {
  test("a different IdP account claiming a linked user's name is refused", async () => {
    // alice signs in once: her Vigil user is now linked to ALICE.sub.
    const own = await untilCallback(PROVIDER_ID, ALICE);
    expect((await deliver(own.callback, own.flowCookie)).status).toBe(302);
    await own.context.close();
    // An IdP account renamed to "alice" later is not her (an account no other test links, so the
    // answer does not depend on which tests ran before).
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, TRENT);
    // Trent's token, re-signed by the IdP with preferred_username "alice": a rename at the IdP.
    await stack.idp.tamperNextIdToken({ claims: { preferred_username: "alice" } });
    const before = await sessionsOf("alice");
    await expectRefused(await deliver(callback, flowCookie), 403, "user_taken");
    expect(await sessionsOf("alice")).toBe(before);
    await context.close();
  }, 60_000);
});

describe("account linking, the other way", () => {
  test("a linked IdP account renamed to a new name creates no user and no session", async () => {
    const own = await untilCallback(PROVIDER_ID, ALICE);
    expect((await deliver(own.callback, own.flowCookie)).status).toBe(302);
    await own.context.close();
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, ALICE);
    // ALICE's own account, now carrying another user name at the IdP (jit would create it).
    await stack.idp.tamperNextIdToken({ claims: { preferred_username: "alice-renamed" } });
    await expectRefused(await deliver(callback, flowCookie), 403, "subject_taken");
    expect(await stack.a.stores.users.get("alice-renamed")).toBeUndefined();
    await context.close();
  }, 60_000);
});

describe("back-channel logout", () => {
  const post = (provider: string, body: string, type = "application/x-www-form-urlencoded") =>
    fetch(`${stack.a.url}/oidc/${provider}/backchannel-logout`, {
      method: "POST",
      headers: { "content-type": type },
      body,
    });

  async function signedIn(): Promise<{ token: string; sid: string }> {
    const { callback, flowCookie, context } = await untilCallback(PROVIDER_ID, ALICE);
    const token = sessionCookieOf(await deliver(callback, flowCookie));
    await context.close();
    if (token === undefined) throw new Error("sign-in failed");
    const session = await stack.a.stores.sessions.get(sessionIdFromToken(token));
    return { token, sid: session?.federation?.sid ?? "" };
  }

  async function logoutToken(claims: Record<string, unknown>, key?: CryptoKey): Promise<string> {
    const signingKey = key ?? ((await importJWK(stack.idp.signingKey, "RS256")) as CryptoKey);
    return new SignJWT({
      iss: stack.idp.issuer,
      aud: "vigil",
      iat: Math.floor(Date.now() / 1000),
      jti: crypto.randomUUID(),
      events: { "http://schemas.openid.net/event/backchannel-logout": {} },
      ...claims,
    })
      .setProtectedHeader({ alg: "RS256", kid: stack.idp.signingKey.kid ?? "" })
      .sign(signingKey);
  }

  test("a token signed by a key the IdP never published ends nothing", async () => {
    const { token, sid } = await signedIn();
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await logoutToken({ sub: ALICE.sub, sid }, privateKey);
    expect((await post(PROVIDER_ID, `logout_token=${forged}`)).status).toBe(400);
    expect((await authAs(stack.b, APP, token)).status).toBe(200);
  }, 60_000);

  test("malformed logout tokens end nothing: nonce present, no event, no sub/sid, other audience, not form-encoded", async () => {
    const { token, sid } = await signedIn();
    const bad = [
      await logoutToken({ sub: ALICE.sub, sid, nonce: "n" }),
      await logoutToken({ sub: ALICE.sub, sid, events: {} }),
      await logoutToken({}),
      await logoutToken({ sub: ALICE.sub, sid, aud: "another-client" }),
      await logoutToken({ sub: ALICE.sub, sid, iat: Math.floor(Date.now() / 1000) - 86_400 }),
    ];
    for (const jwt of bad) expect((await post(PROVIDER_ID, `logout_token=${jwt}`)).status).toBe(400);
    expect(
      (await post(PROVIDER_ID, JSON.stringify({ logout_token: bad[0] }), "application/json")).status,
    ).toBe(415);
    expect((await post(PROVIDER_ID, `logout_token=${"x".repeat(40_000)}`)).status).toBe(413);
    expect((await authAs(stack.b, APP, token)).status).toBe(200);
  }, 60_000);

  test("a valid token with a sid ends that IdP session's Vigil sessions on every replica, and only those", async () => {
    const first = await signedIn();
    const second = await signedIn(); // another browser: another IdP session
    expect(second.sid).not.toBe(first.sid);
    expect(
      (await post(PROVIDER_ID, `logout_token=${await logoutToken({ sub: ALICE.sub, sid: first.sid })}`))
        .status,
    ).toBe(200);
    expect((await authAs(stack.b, APP, first.token)).status).not.toBe(200);
    expect((await authAs(stack.b, APP, second.token)).status).toBe(200);
  }, 60_000);

  test("a token with only a sub ends every session of the linked user; the same token replayed later is refused", async () => {
    const { token } = await signedIn();
    const valid = await logoutToken({ sub: ALICE.sub });
    expect((await post(PROVIDER_ID, `logout_token=${valid}`)).status).toBe(200);
    expect((await authAs(stack.b, APP, token)).status).not.toBe(200);
    expect(await sessionsOf("alice")).toBe(0);
    const again = await signedIn();
    expect((await post(PROVIDER_ID, `logout_token=${valid}`)).status).toBe(400);
    expect((await authAs(stack.b, APP, again.token)).status).toBe(200);
  }, 60_000);

  test("a logout token for another provider's client is refused", async () => {
    const { token, sid } = await signedIn();
    const valid = await logoutToken({ sub: ALICE.sub, sid });
    expect((await post("groups", `logout_token=${valid}`)).status).toBe(400);
    expect((await authAs(stack.b, APP, token)).status).toBe(200);
  }, 60_000);
});

describe("the IdP down", () => {
  test("never discovered: the browser gets a clear 503 page, an API client 503 JSON, no flow starts", async () => {
    const page = await fetch(`${stack.a.url}/oidc/down/login?rd=${encodeURIComponent(APP)}`, {
      headers: { accept: "text/html" },
      redirect: "manual",
    });
    expect(page.status).toBe(503);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("set-cookie")).toBeNull();
    expect(await page.text()).toContain("not reachable");
    const api = await fetch(`${stack.a.url}/oidc/down/login`, {
      headers: { accept: "application/json" },
      redirect: "manual",
    });
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: string }).error).toBe("provider_unavailable");
  });

  test("gone between the redirect and the callback: 503 page / JSON and no session", async () => {
    const first = await untilCallback(PROVIDER_ID, MALLORY);
    const second = await untilCallback(PROVIDER_ID, MALLORY);
    await stack.idp.stop();
    try {
      const page = await deliver(first.callback, first.flowCookie);
      await expectRefused(page, 503, "provider_unavailable");
      const api = await deliver(second.callback, second.flowCookie, { accept: "application/json" });
      expect(api.status).toBe(503);
      expect(((await api.json()) as { error: string }).error).toBe("provider_unavailable");
      expect(await sessionsOf("mallory")).toBe(0);
    } finally {
      await first.context.close();
      await second.context.close();
      await stack.restartIdp();
    }
  }, 60_000);
});
