/**
 * Attacks on the OIDC callback against the real IdP process: replayed and stolen codes, forged
 * state, login CSRF, and ID tokens tampered at the IdP's own token endpoint (its test hook
 * re-signs, strips or swaps the signature). Every refusal must leave no session behind.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { IdTokenTamper } from "../helpers/oidc-idp.ts";
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
import { ALICE, authAs, CLIENT_SECRET, MALLORY, PROVIDER_ID } from "./harness.ts";

// A real IdP and two Vigil replicas: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

useAttackStack();

describe("the callback", () => {
  test("a genuine callback signs in once; the same callback replayed is refused", async () => {
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, ALICE);
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
  }, 60_000);

  test("a stolen code replayed in the attacker's own flow is refused by the IdP (code used, PKCE differs)", async () => {
    const victim = await untilCallback(PROVIDER_ID, ALICE);
    expect((await deliver(victim.callback, victim.flowCookie)).status).toBe(302);
    // The attacker starts a flow of their own and pastes the victim's code and their own state.
    const attacker = await untilCallback(PROVIDER_ID, MALLORY);
    const forged = new URL(attacker.callback);
    forged.searchParams.set("code", victim.callback.searchParams.get("code") ?? "");
    const before = await sessionsOf("alice");
    await expectRefused(await deliver(forged, attacker.flowCookie), 400, "idp_refused");
    expect(await sessionsOf("alice")).toBe(before);
    expect(await sessionsOf("mallory")).toBe(0);
  }, 60_000);

  test("a state that is not this browser's flow's state is refused", async () => {
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, MALLORY);
    const forged = new URL(callback);
    forged.searchParams.set("state", "attacker-chosen-state-value-0123456789");
    await expectRefused(await deliver(forged, flowCookie), 400, "flow_mismatch");
    expect(await sessionsOf("mallory")).toBe(0);
  }, 60_000);

  test("a callback without the flow cookie (login CSRF: the attacker's code in the victim's browser) is refused", async () => {
    const { callback } = await untilCallback(PROVIDER_ID, MALLORY);
    await expectRefused(await deliver(callback, ""), 400, "flow_missing");
    expect(await sessionsOf("mallory")).toBe(0);
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
      const { callback, flowCookie } = await untilCallback(PROVIDER_ID, MALLORY);
      await stack.idp.tamperNextIdToken(tamper());
      await expectRefused(await deliver(callback, flowCookie), 400, "token_invalid");
      expect(await sessionsOf("mallory")).toBe(0);
    }, 60_000);
  }

  test("the same token re-signed by the IdP's own key (control: the tamper hook itself does not break tokens)", async () => {
    const { callback, flowCookie } = await untilCallback(PROVIDER_ID, MALLORY);
    await stack.idp.tamperNextIdToken({ sign: "rs256" });
    const response = await deliver(callback, flowCookie);
    expect(response.status).toBe(302);
    expect(sessionCookieOf(response)).toBeDefined();
    await stack.a.stores.sessions.deleteByUser("mallory");
  }, 60_000);
});
