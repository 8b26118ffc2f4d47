/**
 * The overview's figures, computed from the metrics history: per-interval decision rates by
 * outcome, and over the whole window the step-up challenges and success rate, the top deny reasons
 * and the risk signals that fired. Pure: samples in, numbers out.
 */
import type { MetricsSample } from "../../observe/metrics-history.ts";

export const OUTCOMES = [
  "allow",
  "login",
  "stepup",
  "deny",
  "rate_limited",
  "unavailable",
  "bad_request",
] as const;

export interface Overview {
  /** Seconds covered by the samples (0 with fewer than two), from `from` (epoch ms). */
  spanSec: number;
  from: number;
  /** Per outcome, decisions per second in each interval between samples. */
  rates: Record<string, Array<{ at: number; perSec: number }>>;
  totals: Record<string, number>;
  stepUpChallenges: number;
  stepUpSuccesses: number;
  stepUpFailures: number;
  /** Successes / (successes + failures), undefined when there were none. */
  stepUpSuccessRate: number | undefined;
  topDenyReasons: Array<[string, number]>;
  riskSignals: Array<[string, number]>;
}

const delta = (now: Record<string, number>, then: Record<string, number>) => {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(now)) {
    const d = value - (then[key] ?? 0);
    if (d > 0) out[key] = d;
  }
  return out;
};

const top = (counts: Record<string, number>, n: number): Array<[string, number]> =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n);

export function computeOverview(samples: readonly MetricsSample[]): Overview {
  const first = samples[0];
  const last = samples.at(-1);
  const rates: Overview["rates"] = Object.fromEntries(OUTCOMES.map((o) => [o, []]));
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as MetricsSample;
    const b = samples[i] as MetricsSample;
    const seconds = Math.max((b.at - a.at) / 1000, 0.001);
    for (const outcome of OUTCOMES) {
      const d = (b.decisions[outcome] ?? 0) - (a.decisions[outcome] ?? 0);
      rates[outcome]?.push({ at: b.at, perSec: Math.max(d, 0) / seconds });
    }
  }
  if (first === undefined || last === undefined) {
    return {
      spanSec: 0,
      from: 0,
      rates,
      totals: {},
      stepUpChallenges: 0,
      stepUpSuccesses: 0,
      stepUpFailures: 0,
      stepUpSuccessRate: undefined,
      topDenyReasons: [],
      riskSignals: [],
    };
  }
  const results = delta(last.stepUpResults, first.stepUpResults);
  const successes = results.success ?? 0;
  const failures = results.failure ?? 0;
  return {
    spanSec: Math.round((last.at - first.at) / 1000),
    from: first.at,
    rates,
    totals: delta(last.decisions, first.decisions),
    stepUpChallenges: Math.max(last.stepUpChallenges - first.stepUpChallenges, 0),
    stepUpSuccesses: successes,
    stepUpFailures: failures,
    stepUpSuccessRate: successes + failures > 0 ? successes / (successes + failures) : undefined,
    topDenyReasons: top(delta(last.denyReasons, first.denyReasons), 5),
    riskSignals: top(delta(last.riskSignals, first.riskSignals), 8),
  };
}
