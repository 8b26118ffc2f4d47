/**
 * One forwardAuth evaluation, pure: the request facts, the address options, the matched rule, what
 * the store returned and the time give the caller's identity, the risk assessment and the decision.
 * The /auth handler and `vigil explain` both call evaluate(), so what explain reports is what the
 * server answers. Reading the store, verifying a bearer token and locating the address stay with
 * the callers: their results arrive here as data.
 */
import type { FileConfig } from "../config/schema.ts";
import type { CompiledRule, Policy } from "../policy/compile.ts";
import { assessRisk } from "../risk/engine.ts";
import type { GeoPoint, IpListMatcher } from "../risk/types.ts";
import { decide, type StepUpSettings } from "./decide.ts";
import {
  type IdentityState,
  identityFromSession,
  identityFromToken,
  type SessionTimeouts,
  type TokenClaims,
} from "./identity.ts";
import { Reason } from "./reasons.ts";
import {
  type AddressOptions,
  type Decision,
  NO_RISK,
  type RateCounts,
  type RequestFacts,
  type RiskAssessment,
  type Session,
  type User,
} from "./types.ts";

/** The configuration an evaluation depends on, in the decision core's terms. */
export interface EvaluationSettings {
  timeouts: SessionTimeouts;
  stepUp: StepUpSettings;
  risk: FileConfig["risk"];
}

/** The evaluation settings of a configuration; computed once at start, not per request. */
export function evaluationSettings(
  config: Pick<FileConfig, "session" | "stepup" | "risk" | "oidc">,
): EvaluationSettings {
  return {
    timeouts: { idleMs: config.session.idle_timeout, absoluteMs: config.session.absolute_timeout },
    stepUp: {
      acr: config.stepup.acr,
      immediateGraceMs: config.stepup.immediate_grace,
      riskMaxAgeMs: config.stepup.default_max_age,
      // A fresh authentication at an IdP with one of these acr values also answers a step-up.
      idpAcrs: [...new Set(config.oidc.providers.flatMap((provider) => provider.stepup_acr_values))],
    },
    risk: config.risk,
  };
}

/** What the store returned for the request (the shape of the decision's single round trip). */
export interface StoredState {
  /** The session as it was before this request touched it. */
  session: Session | undefined;
  user: User | undefined;
  rate: RateCounts;
  /** Dynamic reputation points of the client address. */
  ipReputation: number;
}

/** How the caller presented itself: nothing, a session cookie, or a bearer token. */
export type Credential = "none" | "session" | "token";

export interface EvaluationInput {
  facts: RequestFacts;
  options: AddressOptions;
  policy: Policy;
  /** The policy's rule for the request (policy/engine's routeRequest). */
  rule: CompiledRule;
  /** The static reputation lists in force. */
  lists: readonly IpListMatcher[];
  now: number;
  credential: Credential;
  /** A bearer token's claims after verification; undefined when the token did not verify. */
  claims: TokenClaims | undefined;
  /**
   * The store's answer; only read when the rule needs it (needsDecisionState) and the credential
   * is not a token that failed verification.
   */
  state: StoredState | undefined;
  /** Where the client address is; undefined for private or unknown addresses. */
  location: GeoPoint | undefined;
  /** hashUserAgent(facts.userAgent), passed in so a caller may memoise it. */
  userAgentHash: string;
}

export interface Evaluation {
  rule: CompiledRule;
  identity: IdentityState;
  risk: RiskAssessment;
  /** false when the rule answers without the store, so neither identity nor risk was assessed. */
  riskAssessed: boolean;
  decision: Decision;
}

/**
 * Whether a decision on this rule reads the store (and so runs the risk engine): bypass and deny
 * rules answer without Redis unless the forwardAuth address itself demands identity.
 */
export function needsDecisionState(rule: Pick<CompiledRule, "action">, options: AddressOptions): boolean {
  return (
    (rule.action !== "bypass" && rule.action !== "deny") ||
    options.stepUpMaxAgeSec !== undefined ||
    options.groups.length > 0
  );
}

const NO_CREDENTIALS: IdentityState = Object.freeze({ kind: "anonymous", reason: Reason.noCredentials });
const TOKEN_INVALID: IdentityState = Object.freeze({ kind: "anonymous", reason: Reason.tokenInvalid });

/** The caller's identity from its credential and the store's records. */
function resolveIdentity(input: EvaluationInput, state: StoredState, settings: EvaluationSettings) {
  if (input.claims !== undefined) return identityFromToken(input.claims, state.user);
  if (input.credential === "session") {
    return identityFromSession(state.session, state.user, input.now, settings.timeouts);
  }
  return NO_CREDENTIALS;
}

/**
 * The identity, risk and decision for one request. Throws when the rule needs the store's state
 * and none was given: a caller bug, which the server answers 503 (never an allow).
 */
export function evaluate(input: EvaluationInput, settings: EvaluationSettings): Evaluation {
  const { facts, rule, now } = input;
  let identity = NO_CREDENTIALS;
  let risk = NO_RISK;
  const assessed = needsDecisionState(rule, input.options);
  if (assessed) {
    if (input.credential === "token" && input.claims === undefined) {
      identity = TOKEN_INVALID;
    } else {
      const state = input.state;
      if (state === undefined) throw new Error(`rule ${rule.name} needs the store's state to decide`);
      identity = resolveIdentity(input, state, settings);
      risk = assessRisk(
        {
          now,
          clientIp: facts.clientIp,
          location: input.location,
          session: identity.kind === "known" ? identity.session : undefined,
          userAgentHash: input.userAgentHash,
          rate: state.rate,
          ipReputation: state.ipReputation,
        },
        { config: settings.risk, lists: input.lists },
      );
    }
  }
  const decision = decide({
    now,
    rule,
    options: input.options,
    isPreflight: facts.isPreflight,
    corsPreflight: input.policy.corsPreflight,
    clientIp: facts.clientIp,
    identity,
    risk,
    stepUp: settings.stepUp,
  });
  return { rule, identity, risk, riskAssessed: assessed, decision };
}
