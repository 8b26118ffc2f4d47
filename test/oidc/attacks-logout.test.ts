/**
 * The OIDC flow's edges, back-channel logout and an IdP that is down, against the real IdP
 * process: off-site rd, passkey addition, per-address flow limits, forged and malformed logout
 * tokens, and 503s that start no flow and leave no session.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { generateKeyPair, importJWK, SignJWT } from "jose";
import { sessionIdFromToken } from "../../src/session/token.ts";
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
import { ALICE, authAs, MALLORY, PROVIDER_ID, startOidcStack } from "./harness.ts";

// A real IdP and two Vigil replicas: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

useAttackStack();

describe("the flow's edges", () => {
  test("an rd off the known hosts falls back to the portal", async () => {
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE, {
      path: `/oidc/${PROVIDER_ID}/login?rd=${encodeURIComponent("https://evil.example/steal")}`,
    });
    const response = await deliver(callback, flowCookie);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${stack.origin}/`);
  }, 60_000);

  test("adding a passkey without a link needs a fresh IdP sign-in and a same-origin form", async () => {
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE);
    const token = sessionCookieOf(await deliver(callback, flowCookie)) ?? "";
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

describe("back-channel logout", () => {
  const post = (provider: string, body: string, type = "application/x-www-form-urlencoded") =>
    fetch(`${stack.a.url}/oidc/${provider}/backchannel-logout`, {
      method: "POST",
      headers: { "content-type": type },
      body,
    });

  async function signedIn(): Promise<{ token: string; sid: string }> {
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE);
    const token = sessionCookieOf(await deliver(callback, flowCookie));
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
      await stack.restartIdp();
    }
  }, 60_000);
});
