/**
 * Reason codes: the stable vocabulary of decision logs, metrics labels, 403 bodies and the
 * X-Auth-* headers. Add new codes here so metrics label cardinality stays bounded.
 */
export const Reason = {
  // allow
  bypass: "bypass",
  authenticated: "authenticated",
  stepUpFresh: "stepup_fresh",
  corsPreflight: "cors_preflight",
  // no identity
  noCredentials: "no_credentials",
  sessionUnknown: "session_unknown",
  sessionIdle: "session_idle_timeout",
  sessionExpired: "session_expired",
  userUnknown: "user_unknown",
  tokenInvalid: "token_invalid",
  // step-up
  stepUpRequired: "stepup_required",
  stepUpStale: "stepup_stale",
  riskStepUp: "risk_stepup",
  // deny
  ruleDenied: "rule_denied",
  userSuspended: "user_suspended",
  userNotAllowed: "user_not_allowed",
  groupRequired: "group_required",
  ipBlocked: "ip_blocked",
  riskTooHigh: "risk_too_high",
  // other outcomes
  rateLimited: "rate_limited",
  storeUnavailable: "store_unavailable",
  badRequest: "bad_request",
  headerTooLarge: "header_too_large",
} as const;

export type ReasonCode = (typeof Reason)[keyof typeof Reason];
