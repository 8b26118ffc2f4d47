/**
 * The decision: pure, synchronous, no I/O. Everything it needs arrives in DecideInput, so every
 * branch is covered by table tests (test/core/decide.test.ts).
 */
import type { CompiledRule } from "../policy/compile.ts";
import type { IdentityState } from "./identity.ts";
import { Reason } from "./reasons.ts";
import type { Action, AddressOptions, Decision, Identity, RiskAssessment } from "./types.ts";

export interface StepUpSettings {
  /** acr a passkey step-up grants and a stepup rule demands. */
  acr: string;
  /** How recent a step-up must be for max_age 0 (the redirect back must still pass). */
  immediateGraceMs: number;
  /** How recent a step-up answers a risk-triggered challenge (also bound to the same client IP). */
  riskMaxAgeMs: number;
  /** acr values an identity provider's step-up grants (its stepup_acr_values): they count as a step-up too. */
  idpAcrs?: readonly string[];
}

export interface DecideInput {
  now: number;
  rule: CompiledRule;
  options: AddressOptions;
  isPreflight: boolean;
  corsPreflight: "allow" | "authenticate";
  clientIp: string;
  identity: IdentityState;
  risk: RiskAssessment;
  stepUp: StepUpSettings;
}

const STRENGTH: Record<Action, number> = { bypass: 0, authenticated: 1, stepup: 2, deny: 3 };

/** The rule's action, tightened (never loosened) by options on the forwardAuth address. */
export function effectiveAction(
  rule: CompiledRule,
  options: AddressOptions,
): { action: Action; maxAgeMs: number } {
  let action = rule.action;
  let maxAgeMs = rule.maxAgeMs ?? Number.POSITIVE_INFINITY;
  if (options.groups.length > 0 && STRENGTH[action] < STRENGTH.authenticated) action = "authenticated";
  if (options.stepUpMaxAgeSec !== undefined) {
    if (STRENGTH[action] < STRENGTH.stepup) action = "stepup";
    maxAgeMs = Math.min(maxAgeMs, options.stepUpMaxAgeSec * 1000);
  }
  return { action, maxAgeMs };
}

function missingRequirement(
  rule: CompiledRule,
  options: AddressOptions,
  identity: Identity,
): string | undefined {
  if (rule.users && !rule.users.has(identity.userId)) return Reason.userNotAllowed;
  const held = identity.groups;
  // Loops, not some/every: no closure per decision.
  if (rule.groups) {
    let any = false;
    for (let i = 0; i < rule.groups.length && !any; i++) any = held.includes(rule.groups[i]!);
    if (!any) return Reason.groupRequired;
  }
  for (let i = 0; i < options.groups.length; i++) {
    if (!held.includes(options.groups[i]!)) return Reason.groupRequired;
  }
  return undefined;
}

const SINGLE_REASONS = new Map<string, readonly string[]>();

/**
 * `[reason]`, one shared frozen array per reason code: most decisions carry a single fixed reason,
 * and nothing downstream modifies a decision's reasons.
 */
function only(reason: string): readonly string[] {
  let reasons = SINGLE_REASONS.get(reason);
  if (reasons === undefined) {
    reasons = Object.freeze([reason]);
    SINGLE_REASONS.set(reason, reasons);
  }
  return reasons;
}

/** Age of the identity's last step-up of an accepted kind (a passkey's acr, an IdP's acrs). */
function stepUpAge(
  identity: Identity,
  now: number,
  stepUp: StepUpSettings,
  via: "passkey" | "idp" | undefined,
): number {
  if (identity.stepUpAt <= 0) return Number.POSITIVE_INFINITY;
  const byPasskey = via !== "idp" && identity.acr === stepUp.acr;
  const byIdp = via !== "passkey" && stepUp.idpAcrs !== undefined && stepUp.idpAcrs.includes(identity.acr);
  return byPasskey || byIdp ? now - identity.stepUpAt : Number.POSITIVE_INFINITY;
}

/**
 * The decision, pure: the matched rule (tightened by the address options), the caller's identity,
 * the risk assessment and the time give allow, sign-in, step-up, deny or rate-limited, with the reason.
 */
export function decide(input: DecideInput): Decision {
  const { rule, risk, now, stepUp } = input;
  const { action, maxAgeMs } = effectiveAction(rule, input.options);
  const ruleName = rule.name;

  if (action === "deny")
    return { kind: "deny", rule: ruleName, reasons: only(Reason.ruleDenied), identity: undefined };
  if (action === "bypass") {
    return { kind: "allow", rule: ruleName, identity: undefined, risk, reasons: only(Reason.bypass) };
  }
  if (input.isPreflight && input.corsPreflight === "allow") {
    return { kind: "allow", rule: ruleName, identity: undefined, risk, reasons: only(Reason.corsPreflight) };
  }
  if (risk.block) {
    return {
      kind: "deny",
      rule: ruleName,
      reasons: [Reason.ipBlocked, risk.block.signal],
      identity: undefined,
    };
  }
  if (risk.rateLimitedForSec !== undefined) {
    return {
      kind: "rate_limited",
      rule: ruleName,
      retryAfterSec: risk.rateLimitedForSec,
      reasons: only(Reason.rateLimited),
    };
  }

  const state = input.identity;
  if (state.kind === "anonymous") return { kind: "login", rule: ruleName, reasons: only(state.reason) };
  if (state.kind === "suspended") {
    return { kind: "deny", rule: ruleName, reasons: only(Reason.userSuspended), identity: state.identity };
  }
  const identity = state.identity;
  const missing = missingRequirement(rule, input.options, identity);
  if (missing) return { kind: "deny", rule: ruleName, reasons: only(missing), identity };
  if (risk.score >= rule.risk.denyAt) {
    return { kind: "deny", rule: ruleName, reasons: only(Reason.riskTooHigh), identity };
  }

  const age = stepUpAge(identity, now, stepUp, undefined);
  if (action === "stepup") {
    const window = maxAgeMs === 0 ? stepUp.immediateGraceMs : maxAgeMs;
    const via = rule.stepUpVia;
    if ((via === undefined ? age : stepUpAge(identity, now, stepUp, via)) > window) {
      return {
        kind: "stepup",
        rule: ruleName,
        maxAgeSec: Math.floor(maxAgeMs / 1000),
        acrValues: via === "idp" && stepUp.idpAcrs?.length ? stepUp.idpAcrs.join(" ") : stepUp.acr,
        via,
        reasons: only(identity.stepUpAt > 0 ? Reason.stepUpStale : Reason.stepUpRequired),
        identity,
      };
    }
  }
  if (risk.score >= rule.risk.stepupAt) {
    // A risky request is answered by a recent step-up made from this same address; a stolen
    // cookie replayed from elsewhere cannot ride on the owner's step-up.
    const sameAddress = identity.source === "jwt" || state.session?.ip === input.clientIp;
    if (age > stepUp.riskMaxAgeMs || !sameAddress) {
      return {
        kind: "stepup",
        rule: ruleName,
        maxAgeSec: Math.floor(stepUp.riskMaxAgeMs / 1000),
        acrValues: stepUp.acr,
        reasons: [Reason.riskStepUp, ...risk.reasons.map((reason) => reason.signal)],
        identity,
      };
    }
  }
  const reasons = only(action === "stepup" ? Reason.stepUpFresh : Reason.authenticated);
  return { kind: "allow", rule: ruleName, identity, risk, reasons };
}
