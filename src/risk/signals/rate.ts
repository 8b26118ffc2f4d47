/**
 * Request rate per session, user and client IP over the sliding window (the counts come from the
 * decision's Redis round trip and include this request). Over a soft limit: risk points, once,
 * however many counters are over. Over a hard limit: 429 with a Retry-After.
 */
import type { RateCounts } from "../../core/types.ts";
import { append, NO_EVIDENCE, type RiskSignal, RiskSignalName, type SignalOutcome } from "../types.ts";

const DIMENSIONS = ["session", "user", "ip"] as const satisfies ReadonlyArray<keyof RateCounts>;

export const rateSignal: RiskSignal = ({ rate }, { config }) => {
  const { window, soft, hard, soft_points } = config.rate;
  const windowSec = Math.max(1, Math.ceil(window / 1000));
  let overSoft: string[] | undefined;
  let retryAfterSec: number | undefined;
  for (let i = 0; i < DIMENSIONS.length; i++) {
    const dimension = DIMENSIONS[i]!;
    const count = rate[dimension];
    if (!(count > soft[dimension])) continue;
    overSoft = append(overSoft, `${dimension} ${Math.round(count)}/${soft[dimension]}`);
    if (count > hard[dimension]) {
      const wait = retryAfter(count, hard[dimension], windowSec);
      retryAfterSec = Math.max(retryAfterSec ?? 0, wait);
    }
  }
  if (overSoft === undefined) return NO_EVIDENCE;
  const outcome: SignalOutcome = {
    reasons:
      soft_points > 0
        ? [
            {
              signal: RiskSignalName.rate,
              points: soft_points,
              detail: `over the soft rate limit per ${windowSec} s: ${overSoft.join(", ")}`,
            },
          ]
        : [],
  };
  if (retryAfterSec !== undefined) outcome.rateLimitedForSec = retryAfterSec;
  return outcome;
};

/**
 * Seconds until a sliding-window count falls back to the hard limit if the client stops: the
 * share of the window that must slide out, assuming requests spread evenly over it. At least
 * 1 s, at most the window.
 */
export function retryAfter(count: number, limit: number, windowSec: number): number {
  const share = 1 - limit / count;
  return Math.min(windowSec, Math.max(1, Math.ceil(windowSec * share)));
}
