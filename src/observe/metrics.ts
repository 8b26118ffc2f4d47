/** Prometheus metrics (prom-client), one registry per app so tests and replicas stay apart. */
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "vigil_" });
  const registers = [registry];
  return {
    registry,
    decisions: new Counter({
      name: "vigil_decisions_total",
      help: "forwardAuth decisions by outcome and primary reason",
      labelNames: ["decision", "reason"] as const,
      registers,
    }),
    decisionDuration: new Histogram({
      name: "vigil_decision_duration_seconds",
      help: "Time from request to decision, Vigil's own time",
      labelNames: ["decision"] as const,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
      registers,
    }),
    policyReloads: new Counter({
      name: "vigil_policy_reloads_total",
      help: "Policy loads by result (ok, error)",
      labelNames: ["result"] as const,
      registers,
    }),
    storeErrors: new Counter({
      name: "vigil_store_errors_total",
      help: "Failed store (Redis) operations on the decision path",
      registers,
    }),
    stepUpChallenges: new Counter({
      name: "vigil_stepup_challenges_total",
      help: "Step-up challenges issued, by trigger (rule, risk)",
      labelNames: ["trigger"] as const,
      registers,
    }),
    stepUpResults: new Counter({
      name: "vigil_stepup_results_total",
      help: "Passkey step-up and sign-in ceremonies by result",
      labelNames: ["result"] as const,
      registers,
    }),
    enrollments: new Counter({
      name: "vigil_enrollments_total",
      help: "Passkeys enrolled",
      registers,
    }),
    riskScore: new Histogram({
      name: "vigil_risk_score",
      help: "Risk score of decisions that reached the risk engine",
      buckets: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
      registers,
    }),
    riskSignals: new Counter({
      name: "vigil_risk_signals_total",
      help: "Risk signals that fired, by signal",
      labelNames: ["signal"] as const,
      registers,
    }),
    sessionsRevoked: new Counter({
      name: "vigil_sessions_revoked_total",
      help: "Sessions revoked, by cause (admin, logout, event, suspend, oidc_logout)",
      labelNames: ["cause"] as const,
      registers,
    }),
    events: new Counter({
      name: "vigil_events_total",
      help: "Shared Signals (SSF/CAEP) events received, by type and result",
      labelNames: ["type", "result"] as const,
      registers,
    }),
    writeConfirmations: new Counter({
      name: "vigil_write_confirmations_total",
      help: "Security writes checked with Redis replicas (WAIT), by result (confirmed, not_confirmed)",
      labelNames: ["result"] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
