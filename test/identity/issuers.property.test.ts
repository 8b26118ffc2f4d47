/**
 * Multi-issuer bearer tokens, property-based (fast-check), through a real /auth over HTTP on a real
 * Redis, each token signed with jose. Every run draws a set of issuers (ids that may equal local
 * user or group names, local or namespaced subjects, random allowed groups, acr and amr values),
 * starts Vigil with them, and sends it a batch of tokens: subjects that collide with local users
 * (one suspended) or hold separators, groups with commas, spaces and control characters, any acr,
 * auth_time in the past, just ahead (within the clock skew) or far in the future, and tokens from
 * an issuer Vigil does not know. Whatever the draw:
 * - never authenticated as a local user unless the token's issuer names local users;
 * - never a group outside the issuer's allowed list (or, for a local user, the store's groups);
 * - never a satisfied step-up without an acr the issuer is trusted with, fresh enough, and never
 *   any allow from an auth_time in the future;
 * - never a header list item that holds a separator, never a 5xx.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { resolveConfig } from "../../src/config/load.ts";
import { createBearerVerifier } from "../../src/identity/bearer.ts";
import { authRequest } from "../admin/forwarded.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { startVigil } from "../helpers/vigil.ts";

// Generated issuer sets, each against a fresh Vigil: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const POLICY = `
rules:
  - { name: admin, paths: ["/admin/**"], groups: [admins], action: stepup, max_age: 5m }
  - { name: sensitive, paths: ["/sensitive/**"], action: stepup, max_age: 5m }
  - { name: ops, paths: ["/ops/**"], groups: [ops], action: authenticated }
  - { name: app, action: authenticated }
default: deny
`;
const STEP_UP_PATHS = new Set(["/admin/x", "/sensitive/x"]);
const MAX_AGE_SEC = 300;
const SKEW_SEC = 5;
const STEP_UP_ACR = "phr";

/** Local users in the store; sam is suspended. */
const LOCAL_USERS: Record<string, { groups: string[]; status: "active" | "suspended" }> = {
  alice: { groups: ["admins", "ops"], status: "active" },
  bob: { groups: ["readers"], status: "active" },
  sam: { groups: ["admins"], status: "suspended" },
};

const GROUPS = ["admins", "readers", "ops"];
const ACRS = ["phr", "phrh", "passkey"];
const AMRS = ["hwk", "user", "mfa", "pwd"];
const SLOTS = 4;

interface IssuerDraw {
  id: string;
  subjects: "local" | "namespaced";
  allowed_groups: string[];
  acr_values: string[];
  amr_values: string[];
}

interface TokenDraw {
  /** Index into the drawn issuers (modulo their count); -1 = an issuer Vigil does not know. */
  slot: number;
  sub: string;
  groups: unknown;
  acr: string | undefined;
  amr: string[];
  /** auth_time relative to Vigil's clock, seconds; undefined = no auth_time. */
  authOffsetSec: number | undefined;
  path: string;
}

const issuerDraw: fc.Arbitrary<Omit<IssuerDraw, "id">> = fc
  .record({
    subjects: fc.constantFrom("local" as const, "namespaced" as const),
    allowed_groups: fc.subarray(GROUPS),
    acr_values: fc.subarray(ACRS),
    amr_values: fc.subarray(AMRS),
  })
  .map((issuer) => (issuer.subjects === "local" ? { ...issuer, allowed_groups: [] } : issuer));

/** Issuer ids that read like local users and groups, to tempt a collision. */
const issuersDraw: fc.Arbitrary<IssuerDraw[]> = fc
  .uniqueArray(fc.constantFrom("corp", "partner", "alice", "admins", "x"), { minLength: 1, maxLength: SLOTS })
  .chain((ids) =>
    fc.tuple(...ids.map(() => issuerDraw)).map((draws) => draws.map((draw, i) => ({ ...draw, id: ids[i]! }))),
  );

const separatorText = fc.string({
  unit: fc.constantFrom("a", "d", "m", "i", "n", "s", ",", " ", "\t", ":", "\u00e9", "\u0000"),
  maxLength: 12,
});

const tokenDraw: fc.Arbitrary<TokenDraw> = fc.record({
  slot: fc.integer({ min: -1, max: SLOTS - 1 }),
  sub: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom("alice", "bob", "sam", "mallory", "partner:alice", "corp:alice"),
    },
    { weight: 1, arbitrary: separatorText },
  ),
  groups: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.array(
        fc.oneof(
          fc.constantFrom(...GROUPS, "x,admins", "admins ", "a\tb", "readers,admins", "gr\u00fcppe", ""),
          separatorText,
        ),
        { maxLength: 5 },
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom("admins readers", "ops,admins", 7, null) },
  ),
  acr: fc.option(
    fc.oneof(
      { weight: 2, arbitrary: fc.constant(STEP_UP_ACR) },
      { weight: 1, arbitrary: fc.constantFrom(...ACRS, "PHR", " phr", "phr,phrh") },
    ),
    { nil: undefined },
  ),
  amr: fc.array(fc.constantFrom(...AMRS, "x,mfa", "hwk user"), { maxLength: 4 }),
  authOffsetSec: fc.option(
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: -MAX_AGE_SEC, max: 0 }) },
      { weight: 1, arbitrary: fc.integer({ min: -2 * MAX_AGE_SEC, max: -MAX_AGE_SEC }) },
      { weight: 1, arbitrary: fc.integer({ min: -86_400, max: 0 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: SKEW_SEC - 1 }) },
      { weight: 2, arbitrary: fc.integer({ min: SKEW_SEC + 1, max: 10 * 365 * 86_400 }) },
    ),
    { nil: undefined },
  ),
  path: fc.constantFrom("/admin/x", "/sensitive/x", "/ops/x", "/app"),
});

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
let redis: RedisHandle;
let keys: KeyPair[];
let publicKeys: JWK[];
let stranger: KeyPair;

const issuerUrl = (slot: number) => `https://issuer-${slot}.example`;

beforeAll(async () => {
  redis = await startRedis();
  const pairs = await Promise.all(
    Array.from({ length: SLOTS + 1 }, () => generateKeyPair("ES256", { extractable: true })),
  );
  stranger = pairs.pop()!;
  keys = pairs;
  publicKeys = await Promise.all(
    keys.map(async (pair) => ({ ...(await exportJWK(pair.publicKey)), alg: "ES256" })),
  );
});
afterAll(async () => redis?.stop());

function sign(draw: TokenDraw, issuers: IssuerDraw[], nowSec: number): Promise<string> {
  const slot = draw.slot < 0 ? -1 : draw.slot % issuers.length;
  const claims: Record<string, unknown> = { groups: draw.groups, amr: draw.amr };
  if (draw.acr !== undefined) claims.acr = draw.acr;
  if (draw.authOffsetSec !== undefined) claims.auth_time = nowSec + draw.authOffsetSec;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", typ: "JWT" })
    .setIssuer(slot < 0 ? "https://stranger.example" : issuerUrl(slot))
    .setAudience("vigil")
    .setSubject(draw.sub)
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + 600)
    .sign((slot < 0 ? stranger : keys[slot]!).privateKey);
}

/** The groups a token states: an array's strings, or a space/comma separated string's parts. */
const statedGroups = (claim: unknown): unknown[] =>
  typeof claim === "string" ? claim.split(/[\s,]+/) : Array.isArray(claim) ? claim : [];

const headerItems = (value: string | null) => (value ? value.split(",") : []);

/** What happened across all runs, so the property is known to have met each kind of allow. */
const seen = { allowed: 0, localAllowed: 0, namespacedAllowed: 0, stepUpAllowed: 0, groupsCarried: 0 };

function check(response: Response, draw: TokenDraw, issuers: IssuerDraw[]): void {
  expect([200, 401, 403]).toContain(response.status);
  const issuer = draw.slot < 0 ? undefined : issuers[draw.slot % issuers.length]!;
  if (!issuer || (draw.authOffsetSec !== undefined && draw.authOffsetSec > SKEW_SEC)) {
    // An unknown issuer, or an authentication in the future: the token is refused outright.
    expect(response.status).toBe(401);
    return;
  }
  if (response.status !== 200) return;
  seen.allowed += 1;

  const user = response.headers.get("x-auth-user");
  const groups = headerItems(response.headers.get("x-auth-groups"));
  const local = LOCAL_USERS[draw.sub];
  if (issuer.subjects === "local") {
    expect(user).toBe(draw.sub);
    expect(local?.status).toBe("active");
    for (const group of groups) expect(local?.groups).toContain(group);
    seen.localAllowed += 1;
  } else {
    expect(user).toBe(`${issuer.id}:${draw.sub}`);
    expect(Object.keys(LOCAL_USERS)).not.toContain(user);
    for (const group of groups) {
      expect(issuer.allowed_groups).toContain(group);
      expect(statedGroups(draw.groups)).toContain(group);
    }
    seen.namespacedAllowed += 1;
  }
  if (groups.length > 0) seen.groupsCarried += 1;
  for (const group of groups) expect(group).toMatch(/^[\x21-\x2b\x2d-\x7e]+$/);

  const acr = response.headers.get("x-auth-acr") ?? "";
  if (acr !== "") expect(issuer.acr_values).toContain(acr);
  for (const method of headerItems(response.headers.get("x-auth-amr"))) {
    expect(issuer.amr_values).toContain(method);
    expect(draw.amr).toContain(method);
  }

  if (STEP_UP_PATHS.has(draw.path)) {
    // A satisfied step-up: a trusted phr, from an auth_time neither in the future nor too old.
    expect(draw.acr).toBe(STEP_UP_ACR);
    expect(issuer.acr_values).toContain(STEP_UP_ACR);
    expect(draw.authOffsetSec).toBeDefined();
    expect(draw.authOffsetSec!).toBeLessThanOrEqual(SKEW_SEC);
    expect(draw.authOffsetSec!).toBeGreaterThanOrEqual(-MAX_AGE_SEC);
    seen.stepUpAllowed += 1;
  }
}

/** Always run first: one of each kind of allow, so the checks above are known to be reached. */
const WITNESS: [IssuerDraw[], TokenDraw[]] = [
  [
    { id: "corp", subjects: "local", allowed_groups: [], acr_values: ["phr"], amr_values: ["hwk"] },
    { id: "alice", subjects: "namespaced", allowed_groups: ["admins"], acr_values: ["phr"], amr_values: [] },
  ],
  [
    { slot: 0, sub: "alice", groups: [], acr: "phr", amr: ["hwk"], authOffsetSec: -10, path: "/admin/x" },
    {
      slot: 1,
      sub: "alice",
      groups: ["x,admins", "admins"],
      acr: "phr",
      amr: [],
      authOffsetSec: -10,
      path: "/admin/x",
    },
    { slot: 1, sub: "alice", groups: ["admins"], acr: "phr", amr: [], authOffsetSec: 3600, path: "/admin/x" },
  ],
];

test("multi-issuer tokens: no local user, group or step-up an issuer is not trusted with", async () => {
  await fc.assert(
    fc.asyncProperty(
      issuersDraw,
      fc.array(tokenDraw, { minLength: 10, maxLength: 40 }),
      async (issuers, tokens) => {
        const raw = {
          log: { level: "silent" },
          jwt: {
            clock_skew: `${SKEW_SEC}s`,
            issuers: issuers.map((issuer, slot) => ({
              ...issuer,
              issuer: issuerUrl(slot),
              audience: "vigil",
              keys: { keys: [publicKeys[slot]!] },
              algorithms: ["ES256"],
            })),
          },
        };
        const vigil = await startVigil({
          config: raw,
          policyText: POLICY,
          store: { redisUrl: redis.url, prefix: uniquePrefix() },
          deps: { bearer: createBearerVerifier(resolveConfig(raw).jwt) },
        });
        try {
          for (const [id, user] of Object.entries(LOCAL_USERS)) {
            await vigil.stores.users.put({ id, displayName: id, createdAt: vigil.clock.now, ...user });
          }
          const nowSec = Math.floor(vigil.clock.now / 1000);
          for (const draw of tokens) {
            const bearer = await sign(draw, issuers, nowSec);
            check(await authRequest(vigil.url, { bearer, uri: draw.path }), draw, issuers);
          }
        } finally {
          await vigil.close();
        }
      },
    ),
    { numRuns: 30, examples: [WITNESS] },
  );
  // The property met every kind of allow it speaks about (else it would hold vacuously).
  expect(seen.localAllowed).toBeGreaterThan(0);
  expect(seen.namespacedAllowed).toBeGreaterThan(0);
  expect(seen.stepUpAllowed).toBeGreaterThan(0);
  expect(seen.groupsCarried).toBeGreaterThan(0);
}, 120_000);
