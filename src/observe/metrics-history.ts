/**
 * The last hour of what the metrics already count, for the console's overview: an in-process ring
 * of cumulative counter samples read from prom-client (decisions by outcome and reason, step-up
 * challenges and results, risk signals). Each replica keeps its own: the overview shows the
 * replica that served it (Prometheus remains the source for fleet-wide graphs).
 */
import type { Metrics } from "./metrics.ts";

export interface MetricsSample {
  at: number;
  /** Cumulative counts by label value(s). */
  decisions: Record<string, number>;
  denyReasons: Record<string, number>;
  stepUpChallenges: number;
  stepUpResults: Record<string, number>;
  riskSignals: Record<string, number>;
}

export const HISTORY_WINDOW_MS = 3600_000;
const MAX_SAMPLES = 720;

type CounterValues = { values: Array<{ labels: Record<string, string | number>; value: number }> };

function sumBy(
  data: CounterValues,
  label: string,
  filter?: (labels: Record<string, string | number>) => boolean,
) {
  const totals: Record<string, number> = {};
  for (const { labels, value } of data.values) {
    if (filter && !filter(labels)) continue;
    const key = String(labels[label] ?? "");
    totals[key] = (totals[key] ?? 0) + value;
  }
  return totals;
}

export class MetricsHistory {
  private readonly ring: MetricsSample[] = [];

  constructor(private readonly metrics: Metrics) {}

  /** Reads the counters now and appends a sample (dropping those older than an hour). */
  async sample(now: number): Promise<void> {
    const [decisions, challenges, results, signals] = (await Promise.all([
      this.metrics.decisions.get(),
      this.metrics.stepUpChallenges.get(),
      this.metrics.stepUpResults.get(),
      this.metrics.riskSignals.get(),
    ])) as CounterValues[];
    // Two samples at the same instant would make a zero-length interval: keep the newer one.
    if (this.ring.length > 0 && (this.ring.at(-1) as MetricsSample).at >= now) this.ring.pop();
    this.ring.push({
      at: now,
      decisions: sumBy(decisions as CounterValues, "decision"),
      denyReasons: sumBy(decisions as CounterValues, "reason", (labels) => labels.decision === "deny"),
      stepUpChallenges: Object.values(sumBy(challenges as CounterValues, "trigger")).reduce(
        (a, b) => a + b,
        0,
      ),
      stepUpResults: sumBy(results as CounterValues, "result"),
      riskSignals: sumBy(signals as CounterValues, "signal"),
    });
    while (
      this.ring.length > MAX_SAMPLES ||
      (this.ring.length > 1 && now - (this.ring[0] as MetricsSample).at > HISTORY_WINDOW_MS)
    ) {
      this.ring.shift();
    }
  }

  samples(): readonly MetricsSample[] {
    return this.ring;
  }

  /** Samples every intervalMs without keeping the process alive; returns the stop function. */
  start(intervalMs: number, clock: () => number): () => void {
    const timer = setInterval(() => void this.sample(clock()).catch(() => {}), intervalMs);
    timer.unref?.();
    return () => clearInterval(timer);
  }
}
