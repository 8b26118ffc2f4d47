/** The console overview's figures, from a real prom-client registry sampled into the history. */
import { expect, test } from "bun:test";
import { computeOverview } from "../../src/http/console/overview.ts";
import { createMetrics } from "../../src/observe/metrics.ts";
import { MetricsHistory } from "../../src/observe/metrics-history.ts";

test("rates per interval, step-up success rate, top deny reasons and risk signals over the window", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const history = new MetricsHistory(metrics);
  const t0 = 1_700_000_000_000;
  metrics.decisions.inc({ decision: "allow", reason: "authenticated" }, 100); // before the window: not counted
  await history.sample(t0);
  metrics.decisions.inc({ decision: "allow", reason: "authenticated" }, 20);
  metrics.decisions.inc({ decision: "deny", reason: "group_required" }, 3);
  metrics.decisions.inc({ decision: "deny", reason: "ip_blocked" }, 5);
  metrics.stepUpChallenges.inc({ trigger: "rule" }, 4);
  metrics.stepUpResults.inc({ result: "success" }, 3);
  metrics.stepUpResults.inc({ result: "failure" }, 1);
  metrics.stepUpResults.inc({ result: "signin_success" }, 9); // sign-ins are not step-ups
  metrics.riskSignals.inc({ signal: "geo_country" }, 2);
  await history.sample(t0 + 10_000);
  metrics.decisions.inc({ decision: "allow", reason: "authenticated" }, 5);
  await history.sample(t0 + 20_000);

  const overview = computeOverview(history.samples());
  expect(overview.spanSec).toBe(20);
  expect(overview.from).toBe(t0);
  expect(overview.rates.allow).toEqual([
    { at: t0 + 10_000, perSec: 2 },
    { at: t0 + 20_000, perSec: 0.5 },
  ]);
  expect(overview.totals).toEqual({ allow: 25, deny: 8 });
  expect(overview.stepUpChallenges).toBe(4);
  expect(overview.stepUpSuccessRate).toBe(0.75);
  expect(overview.topDenyReasons).toEqual([
    ["ip_blocked", 5],
    ["group_required", 3],
  ]);
  expect(overview.riskSignals).toEqual([["geo_country", 2]]);
});

test("samples older than an hour leave the window; a sample at the same instant replaces the last", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const history = new MetricsHistory(metrics);
  const t0 = 1_700_000_000_000;
  await history.sample(t0);
  await history.sample(t0 + 1000);
  await history.sample(t0 + 1000);
  expect(history.samples()).toHaveLength(2);
  await history.sample(t0 + 3600_000 + 2000);
  expect(history.samples().map((s) => s.at)).toEqual([t0 + 3600_000 + 2000]);
  expect(computeOverview([]).stepUpSuccessRate).toBeUndefined();
});
