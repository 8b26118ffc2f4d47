/**
 * POST /events (RFC 8935 push of RFC 8417 SETs) with locally generated transmitter keys served
 * from a local JWKS endpoint, on a real Redis over real HTTP. Effects are checked on the next /auth.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import type { StoredCredential } from "../../src/ports.ts";
import { authRequest, TEST_POLICY } from "../admin/forwarded.ts";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

const TRANSMITTER = "https://ssf.idp.example";
const AUDIENCE = "https://vigil.example/events";
const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

let redis: RedisHandle;
let jwksServer: Server<unknown>;
let vigil: TestVigil;
let key: KeyPair;
let stranger: KeyPair;
let jwk: JWK;

interface SetOptions {
  events: Record<string, Record<string, unknown>>;
  subId?: Record<string, unknown>;
  iss?: string;
  aud?: string;
  iatSec?: number;
  jti?: string;
  typ?: string;
  signer?: KeyPair;
  kid?: string;
  exp?: number;
}

function makeSet(options: SetOptions): Promise<string> {
  const payload: Record<string, unknown> = { events: options.events };
  if (options.subId) payload.sub_id = options.subId;
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: "ES256", kid: options.kid ?? "t1", typ: options.typ ?? "secevent+jwt" })
    .setIssuer(options.iss ?? TRANSMITTER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt(options.iatSec ?? Math.floor(Date.now() / 1000))
    .setJti(options.jti ?? crypto.randomUUID());
  if (options.exp !== undefined) jwt.setExpirationTime(options.exp);
  return jwt.sign((options.signer ?? key).privateKey);
}

const post = (body: string, contentType = "application/secevent+jwt") =>
  fetch(`${vigil.url}/events`, { method: "POST", headers: { "content-type": contentType }, body });

const emailSubject = (email: string) => ({ format: "email", email });

async function expectError(response: Response, err: string, status = 400) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { err: string; description: string };
  expect(body.err).toBe(err);
  expect(body.description).toEqual(expect.any(String));
}

beforeAll(async () => {
  redis = await startRedis();
  [key, stranger] = await Promise.all([
    generateKeyPair("ES256", { extractable: true }),
    generateKeyPair("ES256", { extractable: true }),
  ]);
  jwk = { ...(await exportJWK(key.publicKey)), kid: "t1", alg: "ES256" };
  jwksServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ keys: [jwk] }) });
  vigil = await startVigil({
    config: {
      events: {
        transmitters: [
          {
            issuer: TRANSMITTER,
            audience: AUDIENCE,
            keys: { jwks_url: `http://127.0.0.1:${jwksServer.port}/jwks` },
            algorithms: ["ES256"],
          },
        ],
        max_age: "10m",
        jti_ttl: "1d",
      },
      jwt: { jwks_cooldown: "0s" },
    },
    policyText: TEST_POLICY,
    store: { redisUrl: redis.url },
  });
});

afterAll(async () => {
  await vigil?.close();
  jwksServer?.stop(true);
  await redis?.stop();
});

async function eventCount(type: string, result: string): Promise<number> {
  const metric = await vigil.deps.metrics.events.get();
  return metric.values.find((v) => v.labels.type === type && v.labels.result === result)?.value ?? 0;
}

describe("valid SETs take effect on the next /auth", () => {
  test("session-revoked (email subject) → 202, the sessions are gone", async () => {
    const now = Date.now();
    const a = await signIn(vigil.stores, { id: "alice@example.com" }, now);
    const b = await signIn(vigil.stores, { id: "alice@example.com" }, now);
    expect((await authRequest(vigil.url, { cookie: a.token })).status).toBe(200);
    const before = await eventCount("session-revoked", "applied");
    const response = await post(
      await makeSet({
        subId: emailSubject("Alice@Example.com"),
        events: { [`${CAEP}session-revoked`]: { event_timestamp: Math.floor(now / 1000) } },
      }),
    );
    expect(response.status).toBe(202);
    expect((await authRequest(vigil.url, { cookie: a.token })).status).toBe(401);
    expect((await authRequest(vigil.url, { cookie: b.token })).status).toBe(401);
    expect(await eventCount("session-revoked", "applied")).toBe(before + 1);
    const revoked = await vigil.deps.metrics.sessionsRevoked.get();
    expect(revoked.values.find((v) => v.labels.cause === "event")?.value).toBeGreaterThanOrEqual(2);
  });

  test("session-revoked with the older in-event subject (iss_sub) and a complex subject naming one session", async () => {
    const now = Date.now();
    const a = await signIn(vigil.stores, { id: "sub-123" }, now);
    const b = await signIn(vigil.stores, { id: "sub-123" }, now);
    const one = await post(
      await makeSet({
        subId: {
          format: "complex",
          user: { format: "iss_sub", iss: "https://idp.example", sub: "sub-123" },
          session: { format: "opaque", id: a.sessionId },
        },
        events: { [`${CAEP}session-revoked`]: {} },
      }),
    );
    expect(one.status).toBe(202);
    expect((await authRequest(vigil.url, { cookie: a.token })).status).toBe(401);
    expect((await authRequest(vigil.url, { cookie: b.token })).status).toBe(200);
    const all = await post(
      await makeSet({
        events: {
          [`${CAEP}session-revoked`]: {
            subject: { subject_type: "iss_sub", iss: "https://idp.example", sub: "sub-123" },
          },
        },
      }),
    );
    expect(all.status).toBe(202);
    expect((await authRequest(vigil.url, { cookie: b.token })).status).toBe(401);
  });

  test("assurance-level-change lowers acr: the next stepup request steps up (401 RFC 9470)", async () => {
    const now = Date.now();
    const { token, sessionId } = await signIn(vigil.stores, { id: "opaque-user" }, now, {
      acr: "phr",
      stepUpAt: now,
    });
    expect((await authRequest(vigil.url, { cookie: token, uri: "/sensitive/x" })).status).toBe(200);
    const response = await post(
      await makeSet({
        subId: { format: "opaque", id: "opaque-user" },
        events: {
          [`${CAEP}assurance-level-change`]: {
            namespace: "RFC8176",
            current_level: "pwd",
            previous_level: "phr",
            change_direction: "decrease",
          },
        },
      }),
    );
    expect(response.status).toBe(202);
    const session = await vigil.stores.sessions.get(sessionId);
    expect(session).toMatchObject({ acr: "pwd", stepUpAt: 0 });
    const challenged = await authRequest(vigil.url, { cookie: token, uri: "/sensitive/x" });
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get("www-authenticate")).toContain('error="insufficient_user_authentication"');
    // Not sensitive: the session itself still works.
    expect((await authRequest(vigil.url, { cookie: token })).status).toBe(200);
  });

  test("assurance-level-change never grants the step-up acr: X-Auth-Acr stays what Vigil verified", async () => {
    const now = Date.now();
    const signedIn = await signIn(vigil.stores, { id: "dora" }, now, { acr: "passkey" });
    const steppedUp = await signIn(vigil.stores, { id: "dora" }, now, { acr: "phr", stepUpAt: now });
    const acrOf = async (token: string) =>
      (await authRequest(vigil.url, { cookie: token })).headers.get("x-auth-acr");
    expect(await acrOf(signedIn.token)).toBe("passkey");
    for (const change of [{}, { change_direction: "decrease" }]) {
      const response = await post(
        await makeSet({
          subId: { format: "opaque", id: "dora" },
          events: { [`${CAEP}assurance-level-change`]: { current_level: "phr", ...change } },
        }),
      );
      expect(response.status).toBe(202);
    }
    // Only Vigil's own passkey check raises a session to the step-up acr.
    expect(await acrOf(signedIn.token)).toBe("passkey");
    expect(await acrOf(steppedUp.token)).toBe("passkey");
    expect(await vigil.stores.sessions.get(steppedUp.sessionId)).toMatchObject({ stepUpAt: 0 });
  });

  test("credential-change revoke deletes that passkey (and revokes the user's sessions)", async () => {
    const now = Date.now();
    const { token } = await signIn(vigil.stores, { id: "carol" }, now);
    const cred = (id: string): StoredCredential => ({
      id,
      userId: "carol",
      publicKey: "x",
      counter: 0,
      transports: [],
      deviceType: "singleDevice",
      backedUp: false,
      createdAt: now,
      lastUsedAt: 0,
      label: "passkey",
    });
    await vigil.stores.credentials.add(cred("carol-1"));
    await vigil.stores.credentials.add(cred("carol-2"));
    const response = await post(
      await makeSet({
        subId: { format: "opaque", id: "carol" },
        events: {
          [`${CAEP}credential-change`]: {
            credential_type: "fido2-platform",
            change_type: "revoke",
            credential_id: "carol-1",
          },
        },
      }),
    );
    expect(response.status).toBe(202);
    expect(await vigil.stores.credentials.get("carol-1")).toBeUndefined();
    expect(await vigil.stores.credentials.get("carol-2")).toBeDefined();
    expect((await authRequest(vigil.url, { cookie: token })).status).toBe(401);
    // A password change at the IdP is not a Vigil credential: ignored, passkeys kept.
    const ignored = await post(
      await makeSet({
        subId: { format: "opaque", id: "carol" },
        events: { [`${CAEP}credential-change`]: { credential_type: "password", change_type: "revoke" } },
      }),
    );
    expect(ignored.status).toBe(202);
    expect(await vigil.stores.credentials.get("carol-2")).toBeDefined();
  });

  test("an unknown subject or event type is accepted with nothing to do", async () => {
    const before = await eventCount("session-revoked", "unknown_subject");
    const unknown = await post(
      await makeSet({ subId: emailSubject("ghost@example.com"), events: { [`${CAEP}session-revoked`]: {} } }),
    );
    expect(unknown.status).toBe(202);
    expect(await eventCount("session-revoked", "unknown_subject")).toBe(before + 1);
    const other = await post(
      await makeSet({
        subId: emailSubject("ghost@example.com"),
        events: { "https://example.com/custom": {} },
      }),
    );
    expect(other.status).toBe(202);
  });
});

describe("invalid SETs → 400 {err, description}", () => {
  const revokeAlice = { [`${CAEP}session-revoked`]: {} };

  test("badly signed → authentication_failed; unknown key → invalid_key", async () => {
    await expectError(
      await post(
        await makeSet({ subId: emailSubject("a@example.com"), events: revokeAlice, signer: stranger }),
      ),
      "authentication_failed",
    );
    await expectError(
      await post(
        await makeSet({
          subId: emailSubject("a@example.com"),
          events: revokeAlice,
          signer: stranger,
          kid: "unknown",
        }),
      ),
      "invalid_key",
    );
  });

  test("wrong audience → invalid_audience; unknown issuer → invalid_issuer", async () => {
    await expectError(
      await post(
        await makeSet({ subId: emailSubject("a@example.com"), events: revokeAlice, aud: "https://other" }),
      ),
      "invalid_audience",
    );
    await expectError(
      await post(
        await makeSet({ subId: emailSubject("a@example.com"), events: revokeAlice, iss: "https://evil" }),
      ),
      "invalid_issuer",
    );
  });

  test("too old (iat beyond events.max_age), or expired → invalid_request", async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    await expectError(
      await post(
        await makeSet({ subId: emailSubject("a@example.com"), events: revokeAlice, iatSec: nowSec - 3600 }),
      ),
      "invalid_request",
    );
    await expectError(
      await post(
        await makeSet({ subId: emailSubject("a@example.com"), events: revokeAlice, exp: nowSec - 120 }),
      ),
      "invalid_request",
    );
  });

  test("replayed jti → invalid_request; the effect is not applied twice", async () => {
    const now = Date.now();
    await signIn(vigil.stores, { id: "dave@example.com" }, now);
    const set = await makeSet({
      subId: emailSubject("dave@example.com"),
      events: revokeAlice,
      jti: "jti-replay-1",
    });
    expect((await post(set)).status).toBe(202);
    const fresh = await signIn(vigil.stores, { id: "dave@example.com" }, Date.now());
    const replay = await post(set);
    await expectError(replay, "invalid_request");
    // The replay did not revoke the session created after the original event.
    expect((await authRequest(vigil.url, { cookie: fresh.token })).status).toBe(200);
  });

  test("wrong content type, wrong typ, not a JWT, no events, no subject → invalid_request", async () => {
    const good = await makeSet({ subId: emailSubject("a@example.com"), events: revokeAlice });
    await expectError(await post(good, "application/jwt"), "invalid_request");
    await expectError(await post(good, "application/json"), "invalid_request");
    await expectError(
      await post(await makeSet({ subId: emailSubject("a@example.com"), events: revokeAlice, typ: "JWT" })),
      "invalid_request",
    );
    await expectError(await post("hello"), "invalid_request");
    await expectError(
      await post(await makeSet({ subId: emailSubject("a@example.com"), events: {} })),
      "invalid_request",
    );
    await expectError(await post(await makeSet({ events: revokeAlice })), "invalid_request");
    await expectError(
      await post(
        await makeSet({
          subId: emailSubject("a@example.com"),
          events: { [`${CAEP}assurance-level-change`]: { change_direction: "decrease" } },
        }),
      ),
      "invalid_request",
    );
  });

  test("a content type with parameters is accepted", async () => {
    const set = await makeSet({ subId: emailSubject("nobody@example.com"), events: revokeAlice });
    expect((await post(set, "application/secevent+jwt; charset=utf-8")).status).toBe(202);
  });
});

describe("refusals", () => {
  const revokeAlice = { [`${CAEP}session-revoked`]: {} };
  test("each refusal is counted once under its label and answered as JSON, never cached", async () => {
    const tooLarge = await eventCount("invalid", "invalid_request");
    const oversized = await post("x".repeat(70_000));
    // Past the size limit the body is not read to its end: 413, with RFC 8935's error body.
    await expectError(oversized, "invalid_request", 413);
    expect(oversized.headers.get("cache-control")).toBe("no-store");
    expect(await eventCount("invalid", "invalid_request")).toBe(tooLarge + 1);

    const badSignature = await eventCount("invalid", "authentication_failed");
    await expectError(
      await post(
        await makeSet({ subId: emailSubject("a@example.com"), events: revokeAlice, signer: stranger }),
      ),
      "authentication_failed",
    );
    expect(await eventCount("invalid", "authentication_failed")).toBe(badSignature + 1);

    const replays = await eventCount("replay", "invalid_request");
    const set = await makeSet({ subId: emailSubject("nobody@example.com"), events: revokeAlice });
    expect((await post(set)).status).toBe(202);
    await expectError(await post(set), "invalid_request");
    expect(await eventCount("replay", "invalid_request")).toBe(replays + 1);
  });

  test("a store that does not answer: 503 temporarily_unavailable, so the transmitter retries", async () => {
    const own = await startRedis({ own: true });
    const receiver = await startVigil({
      config: {
        events: {
          transmitters: [
            {
              issuer: TRANSMITTER,
              audience: AUDIENCE,
              keys: { jwks_url: `http://127.0.0.1:${jwksServer.port}/jwks` },
              algorithms: ["ES256"],
            },
          ],
        },
        redis: { command_timeout: "500ms" },
      },
      policyText: TEST_POLICY,
      store: { redisUrl: own.url },
    });
    try {
      await own.stop();
      const set = await makeSet({ subId: emailSubject("nobody@example.com"), events: revokeAlice });
      const response = await fetch(`${receiver.url}/events`, {
        method: "POST",
        headers: { "content-type": "application/secevent+jwt" },
        body: set,
      });
      expect(response.status).toBe(503);
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(((await response.json()) as { err: string }).err).toBe("temporarily_unavailable");
    } finally {
      await receiver.close();
      await own.stop();
    }
  });
});
