/**
 * Bearer JWT identity with locally generated keys served from a local JWKS endpoint (Bun.serve),
 * through a real /auth over HTTP on a real Redis: valid, bad signature, wrong audience/issuer,
 * expired, key rotation, suspended user, RFC 9470 step-up challenge, caching, JWKS outage.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose";
import { resolveConfig } from "../../src/config/load.ts";
import { createBearerVerifier, stringList, toTokenClaims } from "../../src/identity/bearer.ts";
import { authRequest, TEST_POLICY } from "../admin/forwarded.ts";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

const ISSUER = "https://idp.test.example";
/** Same keys, configured to name local users. */
const STAFF_ISSUER = "https://staff.idp.test.example";
const AUDIENCE = "vigil-api";

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

let redis: RedisHandle;
let jwks: { keys: JWK[] } = { keys: [] };
let jwksFetches = 0;
let jwksServer: Server<unknown>;
let vigil: TestVigil;
let k1: KeyPair;
let k2: KeyPair;
let stranger: KeyPair;

async function publicJwk(pair: KeyPair, kid: string): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, alg: "ES256", use: "sig" };
}

interface TokenOptions {
  key?: KeyPair;
  kid?: string;
  iss?: string;
  aud?: string;
  sub?: string | undefined;
  exp?: number | undefined;
  claims?: Record<string, unknown>;
}

async function token(options: TokenOptions = {}): Promise<string> {
  const nowSec = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { groups: ["readers"], ...options.claims };
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: "ES256", kid: options.kid ?? "k1", typ: "JWT" })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt(nowSec);
  if (!("sub" in options) || options.sub !== undefined) jwt.setSubject(options.sub ?? "api-client");
  if (!("exp" in options) || options.exp !== undefined) jwt.setExpirationTime(options.exp ?? nowSec + 600);
  return jwt.sign((options.key ?? k1).privateKey);
}

/** The issuer's subjects are namespaced ("idp:<sub>"); it is trusted with readers, phr, hwk and user. */
const jwtSection = (extra: Record<string, unknown> = {}) => ({
  issuers: [
    {
      id: "idp",
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: { jwks_url: `http://127.0.0.1:${jwksServer.port}/jwks.json` },
      algorithms: ["ES256"],
      groups_claim: "groups",
      allowed_groups: ["readers"],
      acr_values: ["phr"],
      amr_values: ["hwk", "user"],
    },
    {
      id: "staff",
      issuer: STAFF_ISSUER,
      audience: AUDIENCE,
      keys: { jwks_url: `http://127.0.0.1:${jwksServer.port}/jwks.json` },
      algorithms: ["ES256"],
      subjects: "local",
    },
  ],
  clock_skew: "5s",
  jwks_cache: "10m",
  jwks_cooldown: "0s",
  ...extra,
});

beforeAll(async () => {
  redis = await startRedis();
  [k1, k2, stranger] = await Promise.all([
    generateKeyPair("ES256", { extractable: true }),
    generateKeyPair("ES256", { extractable: true }),
    generateKeyPair("ES256", { extractable: true }),
  ]);
  jwks = { keys: [await publicJwk(k1, "k1")] };
  jwksServer = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch() {
      jwksFetches += 1;
      return Response.json(jwks);
    },
  });
  const raw = { jwt: jwtSection() };
  const config = resolveConfig(raw);
  vigil = await startVigil({
    config: raw,
    policyText: TEST_POLICY,
    store: { redisUrl: redis.url },
    deps: { bearer: createBearerVerifier(config.jwt) },
  });
});

afterAll(async () => {
  await vigil?.close();
  jwksServer?.stop(true);
  await redis?.stop();
});

const auth = (bearer: string, uri = "/") => authRequest(vigil.url, { bearer, uri });

describe("bearer tokens through /auth", () => {
  test("a valid token → 200 with the identity headers", async () => {
    const response = await auth(await token({ claims: { acr: "phr", amr: ["hwk", "user"] } }));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-auth-user")).toBe("idp:api-client");
    expect(response.headers.get("x-auth-groups")).toBe("readers");
    expect(response.headers.get("x-auth-acr")).toBe("phr");
    expect(response.headers.get("x-auth-amr")).toBe("hwk,user");
  });

  test("bad signature, wrong audience, unknown issuer, expired, no exp, no sub → 401", async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    const bad = [
      await token({ key: stranger }), // signed by a key the issuer never published, claiming kid k1
      await token({ aud: "someone-else" }),
      await token({ iss: "https://evil.example" }),
      await token({ exp: nowSec - 60 }),
      await token({ exp: undefined }),
      await token({ sub: undefined }),
      "not.a.jwt",
    ];
    for (const jwt of bad) {
      const response = await auth(jwt);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('Bearer realm="vigil"');
      expect(await response.json()).toMatchObject({ reason: "token_invalid" });
    }
  });

  test("a tampered payload fails verification", async () => {
    const [h, p, s] = (await token()).split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    payload.sub = "admin";
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
    expect((await auth(forged)).status).toBe(401);
  });

  test("key rotation: a new kid is fetched at once; the removed key no longer verifies", async () => {
    jwks = { keys: [await publicJwk(k2, "k2")] };
    const fetchesBefore = jwksFetches;
    const response = await auth(await token({ key: k2, kid: "k2", sub: "rotated" }));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-auth-user")).toBe("idp:rotated");
    expect(jwksFetches).toBeGreaterThan(fetchesBefore);
    expect((await auth(await token({ key: k1, kid: "k1", sub: "old-key" }))).status).toBe(401);
    jwks = { keys: [await publicJwk(k1, "k1"), await publicJwk(k2, "k2")] };
  });

  test("a local user: suspension refuses a valid token; the store's groups win", async () => {
    const now = Date.now();
    await vigil.stores.users.put({
      id: "sam",
      displayName: "Sam",
      status: "suspended",
      groups: [],
      createdAt: now,
    });
    const jwt = await token({ iss: STAFF_ISSUER, sub: "sam", claims: { groups: ["admins"] } });
    const refused = await auth(jwt);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ reason: "user_suspended" });
    // Same (cached) token, user resumed with the admins group: allowed at once, even on /admin/**.
    await vigil.stores.users.update("sam", { status: "active", groups: ["admins"] });
    const allowed = await auth(jwt, "/admin/x");
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-auth-groups")).toBe("admins");
    await vigil.stores.users.update("sam", { groups: [] });
    expect((await auth(jwt, "/admin/x")).status).toBe(403);
  });

  test("step-up rule: no phr acr, or an old auth_time → RFC 9470 challenge; fresh phr → 200", async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    const cases = [
      await token({ claims: { auth_time: nowSec } }), // no acr
      await token({ claims: { acr: "phr", auth_time: nowSec - 3600 } }), // too old for max_age 5m
      await token({ claims: { acr: "phr" } }), // no auth_time
    ];
    for (const jwt of cases) {
      const response = await auth(jwt, "/sensitive/data");
      expect(response.status).toBe(401);
      const challenge = response.headers.get("www-authenticate") ?? "";
      expect(challenge).toContain('error="insufficient_user_authentication"');
      expect(challenge).toContain('acr_values="phr"');
      expect(challenge).toContain('max_age="300"');
    }
    const fresh = await token({ claims: { acr: "phr", auth_time: nowSec - 10 } });
    expect((await auth(fresh, "/sensitive/data")).status).toBe(200);
  });
});

describe("createBearerVerifier", () => {
  test("caches verified tokens: no JWKS fetch, and a cached token survives a JWKS outage", async () => {
    let fetches = 0;
    let up = true;
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch() {
        fetches += 1;
        return up ? Response.json({ keys: jwks.keys }) : new Response("down", { status: 503 });
      },
    });
    try {
      const config = resolveConfig({
        jwt: {
          ...jwtSection({ jwks_cache: "1s" }),
          issuers: [
            {
              id: "idp",
              issuer: ISSUER,
              audience: AUDIENCE,
              keys: { jwks_url: `http://127.0.0.1:${server.port}/` },
            },
          ],
        },
      });
      const verifier = createBearerVerifier(config.jwt);
      const jwt = await token();
      const now = Date.now();
      expect((await verifier.verify(jwt, now))?.userId).toBe("idp:api-client");
      expect(fetches).toBe(1);
      for (let i = 0; i < 5; i++) expect(await verifier.verify(jwt, now + i)).toBeDefined();
      expect(fetches).toBe(1);
      up = false;
      // Cached result (within jwks_cache) still answers; a new token uses the last keys fetched.
      expect(await verifier.verify(jwt, now + 500)).toBeDefined();
      await Bun.sleep(1100); // past jwks_cache: jose refetches (fails), the last keys still verify
      expect((await verifier.verify(await token({ sub: "new" }), Date.now()))?.userId).toBe("idp:new");
    } finally {
      server.stop(true);
    }
  });

  test("JWKS unreachable and no key ever fetched → rejects (the handler answers 503)", async () => {
    const config = resolveConfig({
      jwt: {
        issuers: [
          { id: "idp", issuer: ISSUER, audience: AUDIENCE, keys: { jwks_url: "http://127.0.0.1:1/jwks" } },
        ],
      },
    });
    const verifier = createBearerVerifier(config.jwt);
    const jwt = await token();
    await expect(verifier.verify(jwt, Date.now())).rejects.toThrow();
    const other = await startVigil({
      store: "memory",
      policyText: TEST_POLICY,
      config: { jwt: { issuers: config.jwt.issuers } },
      deps: { bearer: verifier },
    });
    try {
      expect((await authRequest(other.url, { bearer: jwt })).status).toBe(503);
    } finally {
      await other.close();
    }
  });

  test("static keys: a PEM (no kid) and a JWK with a kid", async () => {
    const config = resolveConfig({
      jwt: {
        issuers: [
          {
            id: "idp",
            issuer: ISSUER,
            audience: [AUDIENCE, "other"],
            keys: { keys: [await exportSPKI(k2.publicKey), await publicJwk(k1, "k1")] },
          },
        ],
      },
    });
    const verifier = createBearerVerifier(config.jwt);
    const now = Date.now();
    expect((await verifier.verify(await token({ key: k1, kid: "k1" }), now))?.userId).toBe("idp:api-client");
    expect((await verifier.verify(await token({ key: k2, kid: "whatever" }), now))?.userId).toBe(
      "idp:api-client",
    );
    expect(await verifier.verify(await token({ key: stranger, kid: "k1" }), now)).toBeUndefined();
    expect(await verifier.verify(await token({ key: stranger, kid: "nope" }), now)).toBeUndefined();
  });

  test("clock skew: a token expired less than clock_skew ago still verifies", async () => {
    const config = resolveConfig({
      jwt: {
        clock_skew: "30s",
        issuers: [
          { id: "idp", issuer: ISSUER, audience: AUDIENCE, keys: { keys: [await publicJwk(k1, "k1")] } },
        ],
      },
    });
    const verifier = createBearerVerifier(config.jwt);
    const nowSec = Math.floor(Date.now() / 1000);
    expect(await verifier.verify(await token({ exp: nowSec - 10 }), Date.now())).toBeDefined();
    expect(await verifier.verify(await token({ exp: nowSec - 60 }), Date.now())).toBeUndefined();
  });

  test("claims mapping: groups as array, space/comma string or nested claim; auth_time in ms", () => {
    expect(stringList(["a", 1, "b", ""])).toEqual(["a", "b"]);
    expect(stringList("a b,c  d")).toEqual(["a", "b", "c", "d"]);
    expect(stringList(undefined)).toEqual([]);
    expect(
      toTokenClaims(
        { sub: "x", realm_access: { roles: ["r1"] }, acr: "phr", amr: "pwd", auth_time: 1_700_000_000 },
        "realm_access.roles",
      ),
    ).toEqual({ sub: "x", groups: ["r1"], acr: "phr", amr: ["pwd"], authAt: 1_700_000_000_000 });
    expect(toTokenClaims({ sub: "x" }, "groups")).toEqual({
      sub: "x",
      groups: [],
      acr: "",
      amr: [],
      authAt: 0,
    });
  });
});
