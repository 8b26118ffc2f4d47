/**
 * What a verified ID token means for Vigil, decided without I/O: which Vigil user it names, which
 * groups it brings, whether the provider's admission rules let it in, and whether it answers a
 * step-up that asked for a fresh authentication at a given acr.
 */
import type { FileConfig } from "../config/schema.ts";

export type ProviderSettings = FileConfig["oidc"]["providers"][number];

/** A sign-in at the IdP, as Vigil records it on the session and the user. */
export interface FederatedSignIn {
  userId: string;
  subject: string;
  /** The IdP's session id, "" when it sent none. */
  sid: string;
  /** The IdP's groups after groups_prefix (what Vigil syncs onto the user). */
  groups: string[];
  /** The IdP's acr, "" when it sent none. */
  acr: string;
  /** "fed" followed by the IdP's amr values. */
  amr: string[];
  /** auth_time in ms; undefined when the token has none. */
  authAtMs: number | undefined;
}

export type Refusal =
  | "no_user_claim"
  | "domain_not_allowed"
  | "group_not_allowed"
  | "acr_not_satisfied"
  | "auth_time_stale";

export type Mapped<T> = { ok: true; value: T } | { ok: false; reason: Refusal };

const MAX_ID = 128;
const MAX_GROUPS = 256;
const MAX_GROUP_LENGTH = 256;
/** Printable, no whitespace at the ends, no control characters: a user id shown in headers and logs. */
const SAFE_ID = /^[^\u0000-\u001f\u007f\s](?:[^\u0000-\u001f\u007f]*[^\u0000-\u001f\u007f\s])?$/;

type Claims = Record<string, unknown>;

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value.length > 0 && value.length <= MAX_ID && SAFE_ID.test(value)
    ? value
    : undefined;

function userIdOf(claims: Claims, provider: ProviderSettings): string | undefined {
  if (provider.user_claim !== undefined) return text(claims[provider.user_claim]);
  return text(claims.preferred_username) ?? text(claims.email) ?? text(claims.sub);
}

/** The groups claim as a list of strings (a lone string counts as one group); junk is dropped. */
function groupsOf(claims: Claims, claim: string): string[] {
  const raw = claims[claim];
  const list = typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw : [];
  const groups = list.filter(
    (g): g is string =>
      typeof g === "string" && g.length > 0 && g.length <= MAX_GROUP_LENGTH && !g.includes(","),
  );
  return [...new Set(groups)].slice(0, MAX_GROUPS);
}

/** The verified email's domain, lower case; undefined when there is no email or the IdP says it is unverified. */
function verifiedEmailDomain(claims: Claims): string | undefined {
  if (typeof claims.email !== "string" || claims.email_verified === false) return undefined;
  const at = claims.email.lastIndexOf("@");
  return at > 0 ? claims.email.slice(at + 1).toLowerCase() : undefined;
}

/** Maps a verified ID token's claims, applying the provider's admission rules. */
export function federatedSignIn(claims: Claims, provider: ProviderSettings): Mapped<FederatedSignIn> {
  const subject = text(claims.sub);
  const userId = userIdOf(claims, provider);
  if (subject === undefined || userId === undefined) return { ok: false, reason: "no_user_claim" };
  if (provider.allowed_domains.length > 0) {
    const domain = verifiedEmailDomain(claims);
    const allowed = provider.allowed_domains.map((d) => d.toLowerCase());
    if (domain === undefined || !allowed.includes(domain)) return { ok: false, reason: "domain_not_allowed" };
  }
  const idpGroups = groupsOf(claims, provider.groups_claim);
  if (provider.allowed_groups.length > 0 && !provider.allowed_groups.some((g) => idpGroups.includes(g))) {
    return { ok: false, reason: "group_not_allowed" };
  }
  const prefix = provider.groups_prefix;
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((m): m is string => typeof m === "string") : [];
  return {
    ok: true,
    value: {
      userId,
      subject,
      sid: typeof claims.sid === "string" ? claims.sid.slice(0, MAX_ID) : "",
      groups: prefix === undefined ? idpGroups : idpGroups.filter((g) => g.startsWith(prefix)),
      acr: typeof claims.acr === "string" ? claims.acr.slice(0, MAX_ID) : "",
      amr: [...new Set(["fed", ...amr.slice(0, 16)])],
      authAtMs: typeof claims.auth_time === "number" ? claims.auth_time * 1000 : undefined,
    },
  };
}

/** What a step-up through the IdP asked for. */
export interface StepUpAsk {
  /** acr values sent as acr_values: the answer's acr must be one of them. Empty = any. */
  acrValues: readonly string[];
  /** When the step-up began (ms): the IdP authentication must be at least this recent. */
  startedAt: number;
}

/**
 * RFC 9470 semantics: the returned authentication must be one the step-up asked for — an acr in
 * the asked values, and an auth_time no older than the moment the step-up began (it sent max_age
 * 0 and prompt=login). The IdP's clock may be off by `skewMs`.
 */
export function answersStepUp(signIn: FederatedSignIn, ask: StepUpAsk, skewMs: number): Mapped<true> {
  if (ask.acrValues.length > 0 && !ask.acrValues.includes(signIn.acr)) {
    return { ok: false, reason: "acr_not_satisfied" };
  }
  if (signIn.authAtMs === undefined || signIn.authAtMs < ask.startedAt - skewMs) {
    return { ok: false, reason: "auth_time_stale" };
  }
  return { ok: true, value: true };
}
