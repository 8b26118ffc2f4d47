/**
 * A back-channel logout whose session deletion is not confirmed answers 503, and the IdP's retry
 * of the very same logout token is then accepted, not refused as a replay: otherwise a logout that
 * a failover undid could never be delivered again. The confirmation is made to fail on a real
 * Redis of the stack's own by denying ROLE (which the confirmation runs after the write) to
 * Vigil's connections with an ACL, then allowing it again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { importJWK, SignJWT } from "jose";
import { signIn } from "../helpers/vigil.ts";
import { ALICE, APP_HOST, authAs, type OidcStack, PROVIDER_ID, startOidcStack } from "./harness.ts";

const APP = `http://${APP_HOST}/reports`;

let stack: OidcStack;
let admin: Redis;

beforeAll(async () => {
  stack = await startOidcStack({ ownRedis: true });
  admin = new Redis(stack.redisUrl);
}, 60_000);

afterAll(async () => {
  await admin?.call("ACL", "SETUSER", "default", "+@all").catch(() => {});
  admin?.disconnect();
  await stack?.close();
});

async function logoutToken(claims: Record<string, unknown>): Promise<string> {
  const signingKey = (await importJWK(stack.idp.signingKey, "RS256")) as CryptoKey;
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

const post = (token: string) =>
  fetch(`${stack.a.url}/oidc/${PROVIDER_ID}/backchannel-logout`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `logout_token=${token}`,
  });

describe("back-channel logout not confirmed", () => {
  test("answers 503 not_confirmed, and the retry of the same token is applied, not a replay", async () => {
    const { token } = await signIn(stack.a.stores, { id: "alice" }, Date.now());
    expect(await stack.a.stores.federation.bindSubject(PROVIDER_ID, ALICE.sub, "alice")).toBe("ok");
    expect((await authAs(stack.b, APP, token)).status).toBe(200);
    const logout = await logoutToken({ sub: ALICE.sub });

    await admin.call("ACL", "SETUSER", "default", "-role");
    let refused: Response;
    try {
      refused = await post(logout);
    } finally {
      await admin.call("ACL", "SETUSER", "default", "+@all");
    }
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toBe("not_confirmed");

    const retried = await post(logout);
    expect(retried.status).toBe(200);
    expect((await authAs(stack.b, APP, token)).status).not.toBe(200);
    // Applied once: the token is a replay from now on.
    expect((await post(logout)).status).toBe(400);
  }, 60_000);
});
