/** trustToken: which user, groups, acr and amr Vigil believes of a verified token, per issuer. */
import { describe, expect, test } from "bun:test";
import { isLocalUserId, namespacedUserId } from "../../src/core/names.ts";
import { type IssuerTrust, type StatedClaims, trustToken } from "../../src/core/token-trust.ts";

const NOW = 1_800_000_000_000;
const SKEW = 30_000;

const trust = (over: Partial<IssuerTrust> = {}): IssuerTrust => ({
  id: "partner",
  subjects: "namespaced",
  allowedGroups: new Set(["readers"]),
  acrValues: new Set(["phr"]),
  amrValues: new Set(["hwk", "user"]),
  clockSkewMs: SKEW,
  ...over,
});
const stated = (over: Partial<StatedClaims> = {}): StatedClaims => ({
  sub: "alice",
  groups: ["admins", "readers", "readers"],
  acr: "phr",
  amr: ["hwk", "pwd", "user"],
  authAt: NOW - 1000,
  ...over,
});

describe("trustToken", () => {
  test("namespaced: <id>:<sub>, allowed groups only (once each), listed acr and amr", () => {
    expect(trustToken(stated(), trust(), NOW)).toEqual({
      ok: true,
      claims: {
        userId: "partner:alice",
        localUser: false,
        groups: ["readers"],
        acr: "phr",
        amr: ["hwk", "user"],
        authAt: NOW - 1000,
      },
    });
  });

  test("local: sub as the user id, the token's groups ignored", () => {
    const result = trustToken(
      stated(),
      trust({ subjects: "local", allowedGroups: new Set(["admins"]) }),
      NOW,
    );
    expect(result).toMatchObject({ ok: true, claims: { userId: "alice", localUser: true, groups: [] } });
  });

  test("an acr outside acr_values counts as none", () => {
    expect(trustToken(stated(), trust({ acrValues: new Set() }), NOW)).toMatchObject({ claims: { acr: "" } });
    expect(trustToken(stated({ acr: "PHR" }), trust(), NOW)).toMatchObject({ claims: { acr: "" } });
  });

  test("auth_time: up to the clock skew ahead is accepted, one millisecond more is refused", () => {
    expect(trustToken(stated({ authAt: NOW + SKEW }), trust(), NOW).ok).toBe(true);
    expect(trustToken(stated({ authAt: NOW + SKEW + 1 }), trust(), NOW)).toEqual({
      ok: false,
      reason: "auth_time_in_future",
    });
    expect(trustToken(stated({ authAt: 0 }), trust(), NOW)).toMatchObject({ claims: { authAt: 0 } });
  });

  test.each(["", " alice", "alice ", "a\u0000b", "a\nb", "jos\u00e9", "x".repeat(256)])(
    "sub %j is refused",
    (sub) => {
      expect(trustToken(stated({ sub }), trust(), NOW)).toEqual({ ok: false, reason: "bad_subject" });
    },
  );

  test("subs with inner spaces, colons and 255 characters are accepted", () => {
    for (const sub of ["a b", "corp:alice", "x".repeat(255), "~!@#"]) {
      expect(trustToken(stated({ sub }), trust(), NOW).ok).toBe(true);
    }
  });
});

describe("names", () => {
  test("a namespaced identity is never a valid new local user id", () => {
    expect(isLocalUserId("alice")).toBe(true);
    expect(isLocalUserId("alice@example.com")).toBe(true);
    expect(isLocalUserId(namespacedUserId("partner", "alice"))).toBe(false);
    for (const bad of ["", " alice", "a\u0007", "x".repeat(257)]) expect(isLocalUserId(bad)).toBe(false);
  });
});
