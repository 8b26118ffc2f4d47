/**
 * Turns what the store returned (session + user) or a verified bearer token into an identity,
 * applying idle and absolute time-outs. Pure: time comes in as `now`.
 */
import { Reason, type ReasonCode } from "./reasons.ts";
import type { Identity, Session, User } from "./types.ts";

export type IdentityState =
  | { kind: "anonymous"; reason: ReasonCode }
  | { kind: "suspended"; identity: Identity }
  | { kind: "known"; identity: Identity; session: Session | undefined };

export interface SessionTimeouts {
  idleMs: number;
  absoluteMs: number;
}

/**
 * Who a session cookie stands for now: anonymous (no, expired or orphaned session), suspended,
 * or known, from the session and user records read live and the idle/absolute time-outs.
 */
export function identityFromSession(
  session: Session | undefined,
  user: User | undefined,
  now: number,
  timeouts: SessionTimeouts,
): IdentityState {
  if (!session) return { kind: "anonymous", reason: Reason.sessionUnknown };
  if (now - session.createdAt >= timeouts.absoluteMs)
    return { kind: "anonymous", reason: Reason.sessionExpired };
  if (now - session.lastSeenAt >= timeouts.idleMs) return { kind: "anonymous", reason: Reason.sessionIdle };
  if (!user) return { kind: "anonymous", reason: Reason.userUnknown };
  const identity: Identity = {
    userId: user.id,
    groups: user.groups,
    acr: session.acr,
    amr: session.amr,
    authAt: session.authAt,
    stepUpAt: session.stepUpAt,
    source: "session",
    sessionId: session.id,
  };
  if (user.status !== "active") return { kind: "suspended", identity };
  return { kind: "known", identity, session };
}

/**
 * A verified bearer token after its issuer's trust settings were applied (src/core/token-trust.ts):
 * only what Vigil believes of it.
 */
export interface TokenClaims {
  /** A local user id (the issuer names local users) or `<issuer id>:<sub>`. */
  userId: string;
  /** True when userId names a local user: that user's live status and groups then apply. */
  localUser: boolean;
  /** Groups believed from the token (always empty for a local user: the store's groups apply). */
  groups: string[];
  /** "" unless the issuer is trusted to assert this acr. */
  acr: string;
  amr: string[];
  /** auth_time in ms; 0 when the token has none. Never later than now plus the clock skew. */
  authAt: number;
}

/**
 * A token naming a local user is resolved live against the user store on every request, so
 * suspension and group changes apply to tokens at once; a local user the store does not know is
 * no one. A namespaced identity is the issuer's own user: it has the token's allowed groups and
 * nothing from the store.
 */
export function identityFromToken(claims: TokenClaims, user: User | undefined): IdentityState {
  if (claims.localUser && !user) return { kind: "anonymous", reason: Reason.userUnknown };
  const identity: Identity = {
    userId: claims.userId,
    groups: claims.localUser && user ? user.groups : claims.groups,
    acr: claims.acr,
    amr: claims.amr,
    authAt: claims.authAt,
    // The token's authentication time doubles as its step-up time; decide() also checks its acr.
    stepUpAt: claims.authAt,
    source: "jwt",
    sessionId: undefined,
  };
  if (claims.localUser && user && user.status !== "active") return { kind: "suspended", identity };
  return { kind: "known", identity, session: undefined };
}
