/**
 * What Vigil believes of a verified bearer token, per issuer. Pure: the verifier (src/identity)
 * calls it after jose has checked signature, issuer, audience and expiry.
 *
 * - Subject: an issuer names local users only when configured to (`subjects: local`); otherwise
 *   the token's user is `<issuer id>:<sub>`, which no local user and no other issuer can be.
 * - Groups, acr, amr: only the values listed for the issuer are believed. An acr outside the list
 *   counts as none, so such an issuer can never satisfy a step-up.
 * - auth_time later than now (beyond the clock skew) refuses the token: the issuer is lying or
 *   its clock is wrong, and either way its step-up claims cannot be believed.
 */
import type { TokenClaims } from "./identity.ts";
import { namespacedUserId, TOKEN_SUBJECT } from "./names.ts";

export interface IssuerTrust {
  /** The issuer's id in config; the namespace of its subjects. */
  id: string;
  /** "local": `sub` names a local user (their live status and groups apply). */
  subjects: "local" | "namespaced";
  /** Groups believed from the token (namespaced subjects only). */
  allowedGroups: ReadonlySet<string>;
  acrValues: ReadonlySet<string>;
  amrValues: ReadonlySet<string>;
  /** Tolerance for auth_time ahead of Vigil's clock, ms. */
  clockSkewMs: number;
}

/** The claims of a verified token as the token states them, before any trust is applied. */
export interface StatedClaims {
  sub: string;
  groups: string[];
  acr: string;
  amr: string[];
  /** auth_time in ms; 0 when the token has none. */
  authAt: number;
}

export type TrustResult =
  | { ok: true; claims: TokenClaims }
  | { ok: false; reason: "bad_subject" | "auth_time_in_future" };

export function trustToken(stated: StatedClaims, trust: IssuerTrust, now: number): TrustResult {
  if (!TOKEN_SUBJECT.test(stated.sub)) return { ok: false, reason: "bad_subject" };
  if (stated.authAt > now + trust.clockSkewMs) return { ok: false, reason: "auth_time_in_future" };
  const local = trust.subjects === "local";
  return {
    ok: true,
    claims: {
      userId: local ? stated.sub : namespacedUserId(trust.id, stated.sub),
      localUser: local,
      // A local user's groups come from the store, never from the token.
      groups: local ? [] : unique(stated.groups.filter((group) => trust.allowedGroups.has(group))),
      acr: trust.acrValues.has(stated.acr) ? stated.acr : "",
      amr: unique(stated.amr.filter((method) => trust.amrValues.has(method))),
      authAt: stated.authAt,
    },
  };
}

const unique = (values: string[]): string[] => [...new Set(values)];
