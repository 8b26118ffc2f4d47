/**
 * The risk engine: runs every signal on the request, sums their points into a 0–100 score and
 * keeps the named reasons. A deny-list hit blocks and a hard rate limit asks for 429 regardless
 * of the score. Pure: time, counters and location come in through RiskInput.
 */
import type { RiskAssessment, RiskReason } from "../core/types.ts";
import { geoSignal } from "./signals/geo.ts";
import { ipReputationSignal } from "./signals/ip-reputation.ts";
import { rateSignal } from "./signals/rate.ts";
import { userAgentSignal } from "./signals/user-agent.ts";
import type { RiskContext, RiskInput, RiskSignal } from "./types.ts";

/** Order only decides the order of reasons (and which block wins: the first). */
export const RISK_SIGNALS: readonly RiskSignal[] = [
  ipReputationSignal,
  rateSignal,
  geoSignal,
  userAgentSignal,
];

const MAX_SCORE = 100;

export function assessRisk(input: RiskInput, context: RiskContext): RiskAssessment {
  const reasons: RiskReason[] = [];
  let total = 0;
  let block: RiskAssessment["block"];
  let rateLimitedForSec: number | undefined;
  for (const signal of RISK_SIGNALS) {
    const outcome = signal(input, context);
    for (const reason of outcome.reasons) {
      reasons.push(reason);
      total += reason.points;
    }
    block ??= outcome.block;
    if (outcome.rateLimitedForSec !== undefined) {
      rateLimitedForSec = Math.max(rateLimitedForSec ?? 0, outcome.rateLimitedForSec);
    }
  }
  const score = Math.min(MAX_SCORE, Math.max(0, Math.round(total)));
  return { score, reasons, block, rateLimitedForSec };
}
