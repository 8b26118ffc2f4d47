/**
 * A Shared Signals subject in the iss_sub format names `sub` at `iss`. When `iss` is a bearer-token
 * issuer whose subjects are namespaced (jwt.issuers, the default), its `admin` is the user
 * `<id>:admin`, never the local `admin`: a SET about the partner's user must not revoke, lower or
 * delete anything of the local user who shares the name. A `subjects: local` issuer's `sub`, or an
 * `iss` that is no configured issuer (the transmitter speaking of its own users), still names the
 * local user. Real HTTP, real Redis, SETs signed with a locally generated transmitter key.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { StoredCredential } from "../../src/ports.ts";
import { authRequest, TEST_POLICY } from "../admin/forwarded.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

const TRANSMITTER = "https://ssf.corp.example";
const AUDIENCE = "https://vigil.example/events";
const PARTNER = "https://idp.partner.example";
const CORP = "https://login.corp.example";
const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";

let vigil: TestVigil;
let key: Awaited<ReturnType<typeof generateKeyPair>>;

beforeAll(async () => {
  key = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(key.publicKey);
  const issuer = (id: string, url: string, subjects: string) => ({
    id,
    issuer: url,
    audience: "vigil",
    subjects,
    keys: { keys: [jwk] },
  });
  vigil = await startVigil({
    config: {
      events: { transmitters: [{ issuer: TRANSMITTER, audience: AUDIENCE, keys: { keys: [jwk] } }] },
      jwt: { issuers: [issuer("partner", PARTNER, "namespaced"), issuer("corp", CORP, "local")] },
    },
    policyText: TEST_POLICY,
  });
});
afterAll(async () => vigil?.close());

const send = async (subject: Record<string, unknown>, type: string, event: Record<string, unknown> = {}) => {
  const set = await new SignJWT({ sub_id: subject, events: { [`${CAEP}${type}`]: event } })
    .setProtectedHeader({ alg: "ES256", typ: "secevent+jwt" })
    .setIssuer(TRANSMITTER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
  const response = await fetch(`${vigil.url}/events`, {
    method: "POST",
    headers: { "content-type": "application/secevent+jwt" },
    body: set,
  });
  expect(response.status).toBe(202);
};

const passkey = (id: string, userId: string): StoredCredential => ({
  id,
  userId,
  publicKey: "pQECAyYgASFYIA",
  counter: 0,
  transports: ["internal"],
  deviceType: "multiDevice",
  backedUp: true,
  createdAt: 1_700_000_000_000,
  lastUsedAt: 0,
  label: "passkey",
});

describe("iss_sub subjects of a namespaced issuer never reach the local user of that name", () => {
  test("session-revoked, assurance-level-change and credential-change about partner's 'admin' leave the local admin alone", async () => {
    const now = Date.now();
    const { token, sessionId } = await signIn(vigil.stores, { id: "admin", groups: ["admins"] }, now, {
      acr: "phr",
      stepUpAt: now,
    });
    await vigil.stores.credentials.add(passkey("cred-admin", "admin"));
    const partnerAdmin = { format: "iss_sub", iss: PARTNER, sub: "admin" };

    await send(partnerAdmin, "session-revoked");
    await send(partnerAdmin, "assurance-level-change", {
      current_level: "pwd",
      change_direction: "decrease",
    });
    await send(partnerAdmin, "credential-change", {
      change_type: "delete",
      credential_type: "fido2-platform",
    });
    await send({ format: "complex", user: partnerAdmin }, "session-revoked");

    expect((await authRequest(vigil.url, { cookie: token })).status).toBe(200);
    const session = await vigil.stores.sessions.get(sessionId);
    expect({ acr: session?.acr, stepUpAt: session?.stepUpAt }).toEqual({ acr: "phr", stepUpAt: now });
    expect((await vigil.stores.credentials.listByUser("admin")).map((c) => c.id)).toEqual(["cred-admin"]);
  });

  test("a subjects: local issuer's sub, and an iss that is no configured issuer, name the local user", async () => {
    for (const iss of [CORP, TRANSMITTER]) {
      const { token } = await signIn(vigil.stores, { id: "carol" }, Date.now());
      expect((await authRequest(vigil.url, { cookie: token })).status).toBe(200);
      await send({ format: "iss_sub", iss, sub: "carol" }, "session-revoked");
      expect({ iss, status: (await authRequest(vigil.url, { cookie: token })).status }).toEqual({
        iss,
        status: 401,
      });
    }
  });
});
