/**
 * The vocabulary of the decision core. Everything here is plain data: no I/O, no clocks.
 * Times are epoch milliseconds unless a name says otherwise.
 */

/** What Vigil knows about one forwarded request, parsed from Traefik's X-Forwarded-* headers. */
export interface RequestFacts {
  /** Original method (X-Forwarded-Method), upper case. */
  method: string;
  /** Scheme for building URLs: ws/wss are mapped to http/https. */
  proto: "http" | "https";
  /** Original host name, lower case, without port. */
  host: string;
  /** Port from X-Forwarded-Host or X-Forwarded-Port when it is not the scheme's default. */
  port: string | undefined;
  /** Path as received in X-Forwarded-Uri (still percent-encoded), always starting with "/". */
  path: string;
  /** Query string without the leading "?" ("" when absent). */
  query: string;
  /** The client's address after walking X-Forwarded-For through trusted proxies. */
  clientIp: string;
  /**
   * The client's network for per-client counters, bans and reputation: clientIp cut to
   * client_prefix (e.g. "2001:db8:1:2::/64"; an IPv4 address by default). See net/client-prefix.ts.
   */
  clientKey: string;
  userAgent: string;
  /** True for a navigation that can follow a redirect to a page (Accept has text/html, GET/HEAD). */
  isBrowser: boolean;
  /** True for a CORS preflight (OPTIONS carrying Access-Control-Request-Method). */
  isPreflight: boolean;
  /** Opaque session token from the vigil_session cookie, if any (a secret: never log it). */
  sessionToken: string | undefined;
  /** Bearer token from Authorization, if any (a secret: never log it). */
  bearerToken: string | undefined;
  /** The original absolute URL, e.g. https://app.example.com/a?b=1 */
  originalUrl: string;
  /** Length of the larger header values read (host, URI, Accept, User-Agent, Cookie, Authorization). */
  headerBytes: number;
}

/** Options carried on the forwardAuth address itself, e.g. /auth?stepup=300&group=admins. */
export interface AddressOptions {
  /** Demand a passkey check no older than this many seconds. */
  stepUpMaxAgeSec: number | undefined;
  /** Demand membership of every one of these groups. */
  groups: readonly string[];
}

export type UserStatus = "active" | "suspended";

export interface User {
  id: string;
  displayName: string;
  status: UserStatus;
  groups: string[];
  createdAt: number;
}

/** A browser session as stored (Redis hash or memory). */
export interface Session {
  /** Public handle: SHA-256 of the cookie token, hex. Safe to show to admins and to log. */
  id: string;
  userId: string;
  acr: string;
  amr: string[];
  /** Last sign-in time. */
  authAt: number;
  /** Last passed step-up, 0 when never. */
  stepUpAt: number;
  /** Baseline: where the session was signed in or last stepped up. */
  ip: string;
  country: string;
  /** User-agent baseline, hashed. */
  uaHash: string;
  /** Short browser/OS summary shown to the user on their account page (never the raw user agent). */
  device?: string | undefined;
  /** Last seen location, for impossible travel. NaN when unknown. */
  lastLat: number;
  lastLon: number;
  /** When lastLat/lastLon were recorded (epoch ms), 0 when never. */
  lastLocatedAt: number;
  /** Last request of any kind, located or not (idle timeout). */
  lastSeenAt: number;
  createdAt: number;
  /** Set when the session came from a sign-in at an OIDC identity provider. */
  federation?: SessionFederation | undefined;
}

/** Which identity provider signed a session in: what its back-channel logout names. */
export interface SessionFederation {
  /** The provider's id in the configuration. */
  provider: string;
  /** The IdP's `sub` for the user. */
  subject: string;
  /** The IdP's session id (`sid`), "" when the IdP sent none. */
  sid: string;
}

/** Who is asking, after identity resolution (session cookie or bearer JWT). */
export interface Identity {
  userId: string;
  groups: string[];
  acr: string;
  amr: string[];
  authAt: number;
  stepUpAt: number;
  source: "session" | "jwt";
  /** Session handle when source is "session". */
  sessionId: string | undefined;
}

/** Sliding-window request counts, read and bumped in the decision's single Redis round trip. */
export interface RateCounts {
  /** Weighted count over the last window for the request's session, user and client IP. */
  session: number;
  user: number;
  ip: number;
}

export type Action = "bypass" | "authenticated" | "stepup" | "deny";

export interface RiskThresholds {
  stepupAt: number;
  denyAt: number;
}

export interface RiskReason {
  signal: string;
  points: number;
  detail: string;
}

export interface RiskAssessment {
  score: number;
  reasons: readonly RiskReason[];
  /** A signal that denies outright regardless of score (e.g. a blocklisted IP). */
  block: { signal: string; detail: string } | undefined;
  /** A hard rate limit was crossed: answer 429 with this Retry-After. */
  rateLimitedForSec: number | undefined;
}

/** No evidence at all; shared (frozen) by every decision that assessed nothing or found nothing. */
export const NO_RISK: RiskAssessment = Object.freeze({
  score: 0,
  reasons: Object.freeze([]),
  block: undefined,
  rateLimitedForSec: undefined,
});

/** The outcome of one decision; response.ts turns it into HTTP. */
export type Decision =
  | {
      kind: "allow";
      rule: string;
      identity: Identity | undefined;
      risk: RiskAssessment;
      reasons: readonly string[];
    }
  | { kind: "login"; rule: string; reasons: readonly string[] }
  | {
      kind: "stepup";
      rule: string;
      maxAgeSec: number;
      acrValues: string;
      /** The one kind of check that answers it (the rule's via); undefined = a passkey or the IdP. */
      via?: "passkey" | "idp" | undefined;
      reasons: readonly string[];
      identity: Identity;
    }
  | { kind: "deny"; rule: string; reasons: readonly string[]; identity: Identity | undefined }
  | { kind: "rate_limited"; rule: string; retryAfterSec: number; reasons: readonly string[] }
  | { kind: "unavailable"; rule: string; reasons: readonly string[] };

export type DecisionKind = Decision["kind"];
