/** claims.ts: an ID token's claims → the Vigil user, groups and admission; the step-up answer check. */
import { describe, expect, test } from "bun:test";
import { oidcProviderSchema } from "../../src/config/schema.ts";
import { answersStepUp, federatedSignIn, type ProviderSettings } from "../../src/oidc/claims.ts";

const provider = (extra: Record<string, unknown> = {}): ProviderSettings =>
  oidcProviderSchema.parse({
    id: "corp",
    name: "Corp",
    issuer: "https://idp.example.com",
    client_id: "vigil",
    client_secret_env: "X",
    ...extra,
  });

const claims = {
  sub: "s-1",
  preferred_username: "alice",
  email: "Alice@Example.com",
  email_verified: true,
  groups: ["staff", "vigil-admins", 7, "a,b"],
  sid: "sid-1",
  acr: "mfa",
  amr: ["pwd", "otp"],
  auth_time: 1_700_000_000,
};

describe("federatedSignIn", () => {
  test("maps the claims: user, subject, sid, groups (junk dropped), acr, amr with fed, auth_time", () => {
    const mapped = federatedSignIn(claims, provider());
    expect(mapped).toEqual({
      ok: true,
      value: {
        userId: "alice",
        subject: "s-1",
        sid: "sid-1",
        groups: ["staff", "vigil-admins"],
        acr: "mfa",
        amr: ["fed", "pwd", "otp"],
        authAtMs: 1_700_000_000_000,
      },
    });
  });

  test("user claim: configured, else preferred_username, email, sub; unusable values refuse", () => {
    const { preferred_username: _, ...noName } = claims;
    expect(federatedSignIn(noName, provider()).ok && federatedSignIn(noName, provider())).toMatchObject({
      value: { userId: "Alice@Example.com" },
    });
    expect(federatedSignIn(claims, provider({ user_claim: "sub" }))).toMatchObject({
      value: { userId: "s-1" },
    });
    expect(
      federatedSignIn(
        { ...claims, preferred_username: "bad\nname" },
        provider({ user_claim: "preferred_username" }),
      ),
    ).toEqual({
      ok: false,
      reason: "no_user_claim",
    });
    expect(federatedSignIn({ ...claims, sub: undefined }, provider())).toEqual({
      ok: false,
      reason: "no_user_claim",
    });
  });

  test("groups_prefix keeps only matching groups; a lone string counts as one group", () => {
    expect(federatedSignIn(claims, provider({ groups_prefix: "vigil-" }))).toMatchObject({
      value: { groups: ["vigil-admins"] },
    });
    expect(federatedSignIn({ ...claims, roles: "ops" }, provider({ groups_claim: "roles" }))).toMatchObject({
      value: { groups: ["ops"] },
    });
  });

  test("allowed_domains: a verified email of the domain (any case); unverified or other domains refuse", () => {
    const domains = provider({ allowed_domains: ["example.com"] });
    expect(federatedSignIn(claims, domains).ok).toBe(true);
    expect(federatedSignIn({ ...claims, email_verified: false }, domains)).toEqual({
      ok: false,
      reason: "domain_not_allowed",
    });
    expect(federatedSignIn({ ...claims, email: "a@example.com.evil.test" }, domains)).toEqual({
      ok: false,
      reason: "domain_not_allowed",
    });
    expect(federatedSignIn({ ...claims, email: undefined }, domains)).toEqual({
      ok: false,
      reason: "domain_not_allowed",
    });
  });

  test("allowed_groups: any of them, checked on the IdP's groups", () => {
    expect(federatedSignIn(claims, provider({ allowed_groups: ["staff", "x"] })).ok).toBe(true);
    expect(federatedSignIn(claims, provider({ allowed_groups: ["x"] }))).toEqual({
      ok: false,
      reason: "group_not_allowed",
    });
  });
});

describe("answersStepUp", () => {
  const signIn = (acr: string, authAtMs: number | undefined) => ({
    userId: "alice",
    subject: "s",
    sid: "",
    groups: [],
    acr,
    amr: ["fed"],
    authAtMs,
  });
  const ask = { acrValues: ["mfa"], startedAt: 1_000_000 };
  test.each([
    ["mfa", 1_000_000, true, undefined],
    ["mfa", 1_000_000 - 29_000, true, undefined], // within the IdP clock leeway
    ["pwd", 1_000_500, false, "acr_not_satisfied"],
    ["mfa", 1_000_000 - 31_000, false, "auth_time_stale"],
    ["mfa", undefined, false, "auth_time_stale"],
  ])("acr %s, auth_time %p → %p", (acr, at, ok, reason) => {
    const result = answersStepUp(signIn(acr as string, at as number | undefined), ask, 30_000);
    expect(result.ok).toBe(ok as boolean);
    if (!result.ok) expect(result.reason).toBe(reason as "acr_not_satisfied");
  });
});
