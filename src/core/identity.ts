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

/** Claims of a verified bearer JWT, as the identity layer hands them over. */
export interface TokenClaims {
  sub: string;
  groups: string[];
  acr: string;
  amr: string[];
  /** auth_time in ms; 0 when the token has none. */
  authAt: number;
}

/**
 * A token's subject is looked up live in the user store on every request, so suspension and group
 * changes apply to tokens at once: for a known user the store's status and groups are authoritative.
 * A subject the store does not know (a user managed only by the issuer) gets the token's groups.
 */
export function identityFromToken(claims: TokenClaims, user: User | undefined): IdentityState {
  const identity: Identity = {
    userId: claims.sub,
    groups: user ? user.groups : claims.groups,
    acr: claims.acr,
    amr: claims.amr,
    authAt: claims.authAt,
    // The token's authentication time doubles as its step-up time; decide() also checks its acr.
    stepUpAt: claims.authAt,
    source: "jwt",
    sessionId: undefined,
  };
  if (user && user.status !== "active") return { kind: "suspended", identity };
  return { kind: "known", identity, session: undefined };
}
