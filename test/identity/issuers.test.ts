/**
 * Several bearer-token issuers side by side, through a real /auth over HTTP on a real Redis, with
 * tokens signed by jose: one issuer trusted to name local users (static key), two whose subjects
 * live in their own namespace (one behind a JWKS endpoint). A less trusted issuer cannot become a
 * local user, assert a group it was not granted, satisfy a step-up with an acr it was not granted,
 * or claim an authentication in the future; no group or amr can smuggle a separator into the
 * identity headers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { ConfigError, resolveConfig } from "../../src/config/load.ts";
import { createBearerVerifier } from "../../src/identity/bearer.ts";
import { authRequest } from "../admin/forwarded.ts";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

const POLICY = `
rules:
  - { name: admin, paths: ["/admin/**"], groups: [admins], action: stepup, max_age: 5m }
  - { name: sensitive, paths: ["/sensitive/**"], action: stepup, max_age: 5m }
  - { name: app, action: authenticated }
default: deny
`;
const ADMIN_TOKEN = "issuers-test-admin-token-0123456789";

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
interface IssuerKey {
  iss: string;
  aud: string;
  pair: KeyPair;
  kid: string;
}

let redis: RedisHandle;
let vigil: TestVigil;
let jwksServer: Server<unknown>;
let corp: IssuerKey;
let partner: IssuerKey;
let vendor: IssuerKey;

async function publicJwk(key: IssuerKey): Promise<JWK> {
  return { ...(await exportJWK(key.pair.publicKey)), kid: key.kid, alg: "ES256", use: "sig" };
}

/** A token from `from`, issued at Vigil's clock; `authAgoSec` sets auth_time (negative = future). */
async function token(from: IssuerKey, sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  const nowSec = Math.floor(vigil.clock.now / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: from.kid, typ: "JWT" })
    .setIssuer(from.iss)
    .setAudience(from.aud)
    .setSubject(sub)
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + 600)
    .sign(from.pair.privateKey);
}

const nowSec = () => Math.floor(vigil.clock.now / 1000);
const auth = (bearer: string, uri = "/app") => authRequest(vigil.url, { bearer, uri });

beforeAll(async () => {
  redis = await startRedis();
  const pairs = await Promise.all([1, 2, 3].map(() => generateKeyPair("ES256", { extractable: true })));
  corp = { iss: "https://login.corp.example", aud: "vigil", pair: pairs[0]!, kid: "corp-1" };
  partner = { iss: "https://idp.partner.example", aud: "vigil", pair: pairs[1]!, kid: "partner-1" };
  vendor = { iss: "https://sso.vendor.example/realms/x", aud: "vigil", pair: pairs[2]!, kid: "vendor-1" };
  const partnerJwks = { keys: [await publicJwk(partner)] };
  jwksServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json(partnerJwks) });

  const raw = {
    admin: { token: ADMIN_TOKEN },
    jwt: {
      clock_skew: "5s",
      issuers: [
        {
          id: "corp",
          issuer: corp.iss,
          audience: corp.aud,
          keys: { keys: [await publicJwk(corp)] },
          algorithms: ["ES256"],
          subjects: "local",
          acr_values: ["phr"],
          amr_values: ["hwk", "user", "mfa"],
        },
        {
          id: "partner",
          issuer: partner.iss,
          audience: partner.aud,
          keys: { jwks_url: `http://127.0.0.1:${jwksServer.port}/jwks.json` },
          algorithms: ["ES256"],
          allowed_groups: ["readers"],
        },
        {
          id: "vendor",
          issuer: vendor.iss,
          audience: vendor.aud,
          keys: { keys: [await publicJwk(vendor)] },
          algorithms: ["ES256"],
          allowed_groups: ["readers", "admins"],
          acr_values: ["phr"],
        },
      ],
    },
  };
  vigil = await startVigil({
    config: raw,
    policyText: POLICY,
    store: { redisUrl: redis.url },
    deps: { bearer: createBearerVerifier(resolveConfig(raw).jwt) },
  });
  const createdAt = vigil.clock.now;
  await vigil.stores.users.put({
    id: "alice",
    displayName: "Alice",
    status: "active",
    groups: ["admins"],
    createdAt,
  });
  await vigil.stores.users.put({ id: "bob", displayName: "Bob", status: "active", groups: [], createdAt });
});

afterAll(async () => {
  await vigil?.close();
  jwksServer?.stop(true);
  await redis?.stop();
});

describe("subject namespaces", () => {
  test("a second issuer's sub=alice with acr=phr and a fresh auth_time is not the local admin alice", async () => {
    const jwt = await token(partner, "alice", { acr: "phr", auth_time: nowSec(), groups: ["admins"] });
    const admin = await auth(jwt, "/admin/console");
    expect(admin.status).toBe(403);
    expect(await admin.json()).toMatchObject({ reason: "group_required" });
    const app = await auth(jwt);
    expect(app.status).toBe(200);
    expect(app.headers.get("x-auth-user")).toBe("partner:alice");
    expect(app.headers.get("x-auth-groups")).toBe("");
  });

  test("the issuer configured with subjects: local names alice: her live groups, the token's step-up", async () => {
    const jwt = await token(corp, "alice", { acr: "phr", auth_time: nowSec() - 10, groups: ["readers"] });
    const admin = await auth(jwt, "/admin/console");
    expect(admin.status).toBe(200);
    expect(admin.headers.get("x-auth-user")).toBe("alice");
    expect(admin.headers.get("x-auth-groups")).toBe("admins");
    // The token's own groups are never believed for a local user: the store says bob has none.
    const bob = await auth(
      await token(corp, "bob", { acr: "phr", auth_time: nowSec(), groups: ["admins"] }),
      "/admin/x",
    );
    expect(bob.status).toBe(403);
    expect(await bob.json()).toMatchObject({ reason: "group_required" });
  });

  test("a local-subjects token for a user the store does not know is no one", async () => {
    const response = await auth(await token(corp, "mallory", { groups: ["admins"] }));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ reason: "user_unknown" });
  });

  test("an unknown subject of a namespaced issuer keeps only the issuer's allowed groups", async () => {
    const jwt = await token(partner, "mallory", { groups: ["admins", "readers", "ops"] });
    const admin = await auth(jwt, "/admin/console");
    expect(admin.status).toBe(403);
    expect(await admin.json()).toMatchObject({ reason: "group_required" });
    const app = await auth(jwt);
    expect(app.status).toBe(200);
    expect(app.headers.get("x-auth-user")).toBe("partner:mallory");
    expect(app.headers.get("x-auth-groups")).toBe("readers");
  });

  test("an issuer granted admins and phr reaches the admin rule as its own user, not the local one", async () => {
    const jwt = await token(vendor, "alice", { acr: "phr", auth_time: nowSec() - 5, groups: ["admins"] });
    const response = await auth(jwt, "/admin/console");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-auth-user")).toBe("vendor:alice");
    expect(response.headers.get("x-auth-groups")).toBe("admins");
  });

  test("suspending the local alice does not touch vendor:alice; it stops corp's alice at once", async () => {
    await vigil.stores.users.update("alice", { status: "suspended" });
    try {
      const local = await auth(await token(corp, "alice"));
      expect(local.status).toBe(403);
      expect(await local.json()).toMatchObject({ reason: "user_suspended" });
      expect((await auth(await token(vendor, "alice"))).status).toBe(200);
    } finally {
      await vigil.stores.users.update("alice", { status: "active" });
    }
  });

  test("a sub that could not be carried in X-Auth-User as sent (control or non-ASCII characters, padding) is refused", async () => {
    for (const sub of ["eve\u0000admin", "jos\u00e9", " alice", "alice ", "x".repeat(256)]) {
      const response = await auth(await token(partner, sub));
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ reason: "token_invalid" });
    }
  });

  test("a new local user may not take a namespaced form (admin API answers 400, nothing is created)", async () => {
    const response = await fetch(`${vigil.url}/admin/users/partner:eve/enrollments`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ groups: ["admins"] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_user" });
    expect(await vigil.stores.users.get("partner:eve")).toBeUndefined();
  });
});

describe("acr and auth_time", () => {
  test("an acr outside the issuer's acr_values never satisfies a step-up", async () => {
    const jwt = await token(partner, "carol", { acr: "phr", auth_time: nowSec(), groups: ["readers"] });
    const response = await auth(jwt, "/sensitive/report");
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain('error="insufficient_user_authentication"');
    const app = await auth(jwt);
    expect(app.status).toBe(200);
    expect(app.headers.get("x-auth-acr")).toBe("");
    // The same claims from an issuer granted phr pass.
    const granted = await token(vendor, "carol", { acr: "phr", auth_time: nowSec() });
    expect((await auth(granted, "/sensitive/report")).status).toBe(200);
  });

  test("auth_time in the future (beyond clock_skew) refuses the token; within the skew it passes", async () => {
    for (const ahead of [60, 3600, 10 * 365 * 86400]) {
      const future = await token(corp, "alice", { acr: "phr", auth_time: nowSec() + ahead });
      for (const uri of ["/sensitive/report", "/app"]) {
        const response = await auth(future, uri);
        expect(response.status).toBe(401);
        expect(await response.json()).toMatchObject({ reason: "token_invalid" });
      }
    }
    const skewed = await token(corp, "alice", { acr: "phr", auth_time: nowSec() + 3 });
    expect((await auth(skewed, "/sensitive/report")).status).toBe(200);
  });
});

describe("identity headers", () => {
  test('a token group "x,admins" never becomes X-Auth-Groups: x,admins', async () => {
    const open = await token(vendor, "dave", { groups: ["x,admins", "readers", "admins extra", "a\tb"] });
    const response = await auth(open);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-auth-groups")).toBe("readers");
  });

  test("groups from the store that hold a separator are left out of X-Auth-Groups", async () => {
    // Written straight to the store (as an older version or a hand edit could): the admin API refuses them.
    await vigil.stores.users.put({
      id: "erin",
      displayName: "Erin",
      status: "active",
      groups: ["ops,admins", "readers", "sp ace", "gr\u00fcppe", "dev"],
      createdAt: vigil.clock.now,
    });
    const response = await auth(await token(corp, "erin"));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-auth-groups")).toBe("readers,dev");
  });

  test("amr: only the issuer's amr_values, and none that hold a separator", async () => {
    const jwt = await token(corp, "alice", { amr: ["hwk", "user", "x,mfa", "pwd"] });
    const response = await auth(jwt);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-auth-amr")).toBe("hwk,user");
    const partnerAmr = await auth(await token(partner, "frank", { amr: ["hwk", "mfa"] }));
    expect(partnerAmr.headers.get("x-auth-amr")).toBe("");
  });
});

describe("jwt.issuers validation", () => {
  const issuer = (extra: Record<string, unknown>) => ({
    id: "idp",
    issuer: "https://idp.example",
    audience: "vigil",
    keys: { jwks_url: "https://idp.example/jwks" },
    ...extra,
  });
  test.each([
    [[issuer({ id: undefined })], /jwt\.issuers\.0\.id: required: a short name/],
    [[issuer({ id: "Partner:1" })], /jwt\.issuers\.0\.id: must be 1-64 of a-z/],
    [[issuer({}), issuer({ issuer: "https://other.example" })], /jwt\.issuers: issuer ids must be unique/],
    [[issuer({}), issuer({ id: "other" })], /jwt\.issuers: each issuer may be listed once/],
    [
      [issuer({ subjects: "local", allowed_groups: ["admins"] })],
      /allowed_groups has no effect with subjects: local/,
    ],
    [[issuer({ subjects: "everyone" })], /jwt\.issuers\.0\.subjects/],
    [
      [issuer({ allowed_groups: ["x,admins"] })],
      /jwt\.issuers\.0\.allowed_groups\.0: must be 1-128 printable ASCII/,
    ],
    [[issuer({ acr_values: ["p hr"] })], /jwt\.issuers\.0\.acr_values\.0/],
    [[issuer({ amr_values: [""] })], /jwt\.issuers\.0\.amr_values\.0/],
  ] as Array<[unknown[], RegExp]>)("%j", (issuers, message) => {
    expect(() => resolveConfig({ jwt: { issuers } })).toThrow(ConfigError);
    expect(() => resolveConfig({ jwt: { issuers } })).toThrow(message);
  });

  test("defaults: namespaced subjects, no groups, acr or amr believed", () => {
    const [parsed] = resolveConfig({ jwt: { issuers: [issuer({})] } }).jwt.issuers;
    expect(parsed).toMatchObject({
      subjects: "namespaced",
      allowed_groups: [],
      acr_values: [],
      amr_values: [],
    });
  });

  test("bootstrap.admin_user may not take a namespaced form", () => {
    expect(() => resolveConfig({ bootstrap: { admin_user: "corp:admin" } })).toThrow(/bootstrap\.admin_user/);
  });
});
