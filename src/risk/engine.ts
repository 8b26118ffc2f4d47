import { NO_RISK, type RiskAssessment } from "../core/types.ts";
import type { RiskContext, RiskInput } from "./types.ts";

/** Placeholder until the risk signals land (issue 4): no signal, no score. */
export function assessRisk(_input: RiskInput, _context: RiskContext): RiskAssessment {
  return NO_RISK;
}
