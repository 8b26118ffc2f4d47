/**
 * The risk engine: runs every signal on the request, sums their points into a 0–100 score and
 * keeps the named reasons. A deny-list hit blocks and a hard rate limit asks for 429 regardless
 * of the score. Pure: time, counters and location come in through RiskInput.
 */
import { NO_RISK, type RiskAssessment, type RiskReason } from "../core/types.ts";
import { geoSignal } from "./signals/geo.ts";
import { ipReputationSignal } from "./signals/ip-reputation.ts";
import { rateSignal } from "./signals/rate.ts";
import { userAgentSignal } from "./signals/user-agent.ts";
import { append, type RiskContext, type RiskInput, type RiskSignal } from "./types.ts";

/** Order only decides the order of reasons (and which block wins: the first). */
export const RISK_SIGNALS: readonly RiskSignal[] = [
  ipReputationSignal,
  rateSignal,
  geoSignal,
  userAgentSignal,
];

const MAX_SCORE = 100;

/**
 * The request's risk: every signal's points summed and clamped to 0-100, the signals that fired,
 * and whether one of them denies or demands a step-up regardless of the score.
 */
export function assessRisk(input: RiskInput, context: RiskContext): RiskAssessment {
  // Allocation-free when no signal fires (the common case): NO_RISK itself is the answer.
  let reasons: RiskReason[] | undefined;
  let total = 0;
  let block: RiskAssessment["block"];
  let rateLimitedForSec: number | undefined;
  for (let s = 0; s < RISK_SIGNALS.length; s++) {
    const outcome = RISK_SIGNALS[s]!(input, context);
    const found = outcome.reasons;
    for (let r = 0; r < found.length; r++) {
      const reason = found[r]!;
      reasons = append(reasons, reason);
      total += reason.points;
    }
    block ??= outcome.block;
    if (outcome.rateLimitedForSec !== undefined) {
      rateLimitedForSec = Math.max(rateLimitedForSec ?? 0, outcome.rateLimitedForSec);
    }
  }
  const score = Math.min(MAX_SCORE, Math.max(0, Math.round(total)));
  if (reasons === undefined && score === 0 && block === undefined && rateLimitedForSec === undefined) {
    return NO_RISK;
  }
  return { score, reasons: reasons ?? [], block, rateLimitedForSec };
}
