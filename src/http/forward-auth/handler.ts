/**
 * GET /auth: parse → match rule → one store round trip → risk → decide → respond → observe.
 * Framework-free (Request in, Response out) so it is cheap and testable; app.ts mounts it.
 */
import type { Config } from "../../config/load.ts";
import { decide, type StepUpSettings } from "../../core/decide.ts";
import {
  type IdentityState,
  identityFromSession,
  identityFromToken,
  type SessionTimeouts,
} from "../../core/identity.ts";
import { Reason } from "../../core/reasons.ts";
import {
  type AddressOptions,
  type Decision,
  NO_RISK,
  type RequestFacts,
  type RiskAssessment,
} from "../../core/types.ts";
import { createDecisionLogger, type Logger } from "../../observe/logger.ts";
import type { Metrics } from "../../observe/metrics.ts";
import type { CompiledRule, Policy } from "../../policy/compile.ts";
import { routeRequest } from "../../policy/engine.ts";
import { type BearerVerifier, type DecisionState, ipReputationKey, type Stores } from "../../ports.ts";
import { assessRisk } from "../../risk/engine.ts";
import type { GeoPoint, IpListMatcher } from "../../risk/types.ts";
import { hashUserAgent } from "../../risk/user-agent-hash.ts";
import { sessionIdFromToken } from "../../session/token.ts";
import { storeFailureCause } from "../../store-errors.ts";
import { memoize } from "./memo.ts";
import { parseAddressOptions, parseForwardedRequest } from "./request.ts";
import { badRequest, toResponse } from "./response.ts";

export interface ForwardAuthDeps {
  config: Config;
  policy: { current(): Policy };
  stores: Stores;
  ipLists: { current(): readonly IpListMatcher[] };
  geo: (ip: string) => GeoPoint | undefined;
  bearer: BearerVerifier | undefined;
  isTrustedProxy: (ip: string) => boolean;
  clock: () => number;
  logger: Logger;
  metrics: Metrics;
  /** Returns [0,1); injectable so log sampling is testable. */
  random?: () => number;
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

/** The config values identity resolution and decide() need, in their terms. */
export function decisionSettings(config: Config): { timeouts: SessionTimeouts; stepUp: StepUpSettings } {
  return {
    timeouts: { idleMs: config.session.idle_timeout, absoluteMs: config.session.absolute_timeout },
    stepUp: {
      acr: config.stepup.acr,
      immediateGraceMs: config.stepup.immediate_grace,
      riskMaxAgeMs: config.stepup.default_max_age,
    },
  };
}

/**
 * decide() for a parsed forwardAuth request: the one mapping from request facts and policy to
 * decide()'s input, shared by the handler and `vigil explain` so the two cannot drift apart.
 */
export function decideRequest(
  facts: RequestFacts,
  policy: Policy,
  rule: CompiledRule,
  options: AddressOptions,
  now: number,
  identity: IdentityState,
  risk: RiskAssessment,
  stepUp: StepUpSettings,
): Decision {
  return decide({
    now,
    rule,
    options,
    isPreflight: facts.isPreflight,
    corsPreflight: policy.corsPreflight,
    clientIp: facts.clientIp,
    identity,
    risk,
    stepUp,
  });
}

const NO_QUERY: URLSearchParams = new URLSearchParams();

/** The forwardAuth address's own query (?stepup=, ?group=) without building a whole URL. */
function addressQuery(url: string): URLSearchParams {
  const at = url.indexOf("?");
  return at < 0 ? NO_QUERY : new URLSearchParams(url.slice(at + 1));
}

/** An address without a query carries no options: one shared, frozen answer. */
const NO_OPTIONS = Object.freeze({
  ok: true,
  value: Object.freeze({ stepUpMaxAgeSec: undefined, groups: Object.freeze([]) as unknown as string[] }),
}) as { ok: true; value: AddressOptions };

const NO_CREDENTIALS: IdentityState = Object.freeze({ kind: "anonymous", reason: Reason.noCredentials });
const TOKEN_INVALID: IdentityState = Object.freeze({ kind: "anonymous", reason: Reason.tokenInvalid });

/** forwardAuth handler: a Response at once when no store read is needed (bypass, deny, malformed). */
export type ForwardAuthHandler = (
  request: Request,
  peer: string,
  url?: string,
) => Response | Promise<Response>;

export function createForwardAuthHandler(deps: ForwardAuthDeps): ForwardAuthHandler {
  const { config, stores, metrics, logger } = deps;
  const random = deps.random ?? Math.random;
  const { timeouts, stepUp } = decisionSettings(config);
  const responseSettings = { publicOrigin: config.publicOrigin };
  // Pure functions of the request's own text, memoised (bounded): one browser sends the same
  // user agent on every request. Nothing read from the store is ever kept.
  const userAgentHash = memoize(hashUserAgent, 1024);
  const decisionLog = createDecisionLogger(logger);
  /** prom-client children per label set (kind → reason → child), so a decision costs no label validation. */
  const decisionCounters = new Map<string, Map<string, { inc(): void }>>();
  const decisionTimers = new Map<string, { observe(value: number): void }>();
  const countDecision = (kind: string, reason: string) => {
    let byReason = decisionCounters.get(kind);
    if (byReason === undefined) {
      byReason = new Map();
      decisionCounters.set(kind, byReason);
    }
    let child = byReason.get(reason);
    if (child === undefined) {
      child = metrics.decisions.labels(kind, reason);
      byReason.set(reason, child);
    }
    child.inc();
  };
  const timeDecision = (kind: string, seconds: number) => {
    let child = decisionTimers.get(kind);
    if (child === undefined) {
      child = metrics.decisionDuration.labels(kind);
      decisionTimers.set(kind, child);
    }
    child.observe(seconds);
  };
  /** Reused for every parse (parsing is synchronous): no context object per request. */
  const parseContext = { peer: "", isTrustedProxy: deps.isTrustedProxy };

  function observe(
    decision: Decision,
    facts: RequestFacts,
    policyVersion: string,
    started: number,
    risk: RiskAssessment | undefined,
  ) {
    const seconds = (performance.now() - started) / 1000;
    const reason = decision.reasons[0] ?? "none";
    countDecision(decision.kind, reason);
    timeDecision(decision.kind, seconds);
    if (decision.kind === "stepup") {
      metrics.stepUpChallenges.inc({ trigger: reason === Reason.riskStepUp ? "risk" : "rule" });
    }
    if (decision.kind === "allow" && random() >= config.log.allow_sample_rate) return;
    const identity = "identity" in decision ? decision.identity : undefined;
    // No cookie, token, or query string: the path alone identifies the resource.
    decisionLog.info(
      {
        decision: decision.kind,
        rule: decision.rule,
        reasons: decision.reasons,
        user: identity?.userId,
        session: identity?.sessionId?.slice(0, 16),
        ip: facts.clientIp,
        method: facts.method,
        host: facts.host,
        path: facts.path,
        // Every assessed decision carries its score and signals: a step-up or a risk deny is
        // exactly when an operator needs to see why.
        risk: risk?.score,
        risk_reasons: risk && [
          ...risk.reasons.map((r) => r.signal),
          ...(risk.block ? [risk.block.signal] : []),
        ],
        policy: policyVersion,
        latency_us: Math.round(seconds * 1e6),
      },
      "decision",
    );
  }

  function refuse(error: string, fields: Record<string, string>, message: string): Response {
    countDecision("bad_request", Reason.badRequest);
    logger.warn({ decision: "bad_request", error, ...fields }, message);
    return badRequest(error);
  }

  /** decide() → metrics → Response → decision log: the common tail of every decision. */
  function conclude(
    facts: RequestFacts,
    options: AddressOptions,
    policy: Policy,
    rule: CompiledRule,
    now: number,
    started: number,
    identity: IdentityState,
    risk: RiskAssessment,
    assessed: boolean,
  ): Response {
    const decision = decideRequest(facts, policy, rule, options, now, identity, risk, stepUp);
    if (assessed) recordRisk(risk, decision, facts.clientIp);
    const response = toResponse(decision, facts, responseSettings);
    observe(decision, facts, policy.version, started, assessed ? risk : undefined);
    return response;
  }

  /** The store being down answers 503 (fail closed). */
  function unavailable(facts: RequestFacts, policy: Policy, rule: CompiledRule, started: number): Response {
    const decision: Decision = { kind: "unavailable", rule: rule.name, reasons: [Reason.storeUnavailable] };
    const response = toResponse(decision, facts, responseSettings);
    observe(decision, facts, policy.version, started, undefined);
    return response;
  }

  /** The single store round trip, then identity, risk and the decision. Store failures fail closed. */
  async function decideWithState(
    facts: RequestFacts,
    options: AddressOptions,
    policy: Policy,
    rule: CompiledRule,
    now: number,
    started: number,
  ): Promise<Response> {
    const location = deps.geo(facts.clientIp);
    let claims: Awaited<ReturnType<BearerVerifier["verify"]>>;
    let sessionId: string | undefined;
    if (facts.sessionToken) {
      sessionId = sessionIdFromToken(facts.sessionToken);
    } else if (facts.bearerToken) {
      claims = deps.bearer ? await deps.bearer.verify(facts.bearerToken, now) : undefined;
      if (!claims) return conclude(facts, options, policy, rule, now, started, TOKEN_INVALID, NO_RISK, true);
    }
    let state: DecisionState;
    try {
      state = await stores.decisions.read({
        sessionId,
        userId: claims?.sub,
        clientIp: facts.clientIp,
        now,
        rateWindowMs: config.risk.rate.window,
        // The memoised geo answer itself (read-only): it has lat and lon.
        location,
        idleTimeoutMs: config.session.idle_timeout,
      });
    } catch (error) {
      metrics.storeErrors.inc();
      const err = (error as Error).message;
      // cause: e.g. out_of_memory (Redis full under noeviction), not_enough_replicas, disconnected.
      logger.error({ err, cause: storeFailureCause(err) }, "store read failed on the decision path");
      return unavailable(facts, policy, rule, started);
    }
    const identity: IdentityState = claims
      ? identityFromToken(claims, state.user)
      : sessionId
        ? identityFromSession(state.session, state.user, now, timeouts)
        : NO_CREDENTIALS;
    const risk = assessRisk(
      {
        now,
        clientIp: facts.clientIp,
        location,
        session: identity.kind === "known" ? identity.session : undefined,
        userAgentHash: userAgentHash(facts.userAgent),
        rate: state.rate,
        ipReputation: state.ipReputation,
      },
      { config: config.risk, lists: deps.ipLists.current() },
    );
    return conclude(facts, options, policy, rule, now, started, identity, risk, true);
  }

  return function handleForwardAuth(
    request: Request,
    peer: string,
    url?: string,
  ): Response | Promise<Response> {
    const started = performance.now();
    parseContext.peer = peer;
    // The Headers object itself as the reader: one Headers read per header, no closure.
    const parsed = parseForwardedRequest(request.headers, parseContext);
    const address = url ?? request.url;
    const options = address.indexOf("?") < 0 ? NO_OPTIONS : parseAddressOptions(addressQuery(address));
    if (!parsed.ok) return refuse(parsed.error, { peer }, "malformed forwardAuth request");
    if (!options.ok) return refuse(options.error, { peer }, "malformed forwardAuth request");
    const facts = parsed.value;
    const policy = deps.policy.current();
    const route = routeRequest(policy, {
      host: facts.host,
      rawPath: facts.path,
      method: facts.method,
      clientIp: facts.clientIp,
    });
    if (!route.ok) return refuse(route.error, { host: facts.host }, "ambiguous request path refused");
    const rule = route.rule;
    const now = deps.clock();
    if (needsDecisionState(rule, options.value)) {
      return decideWithState(facts, options.value, policy, rule, now, started);
    }
    // Bypass and deny rules: no store, no risk, answered synchronously.
    return conclude(facts, options.value, policy, rule, now, started, NO_CREDENTIALS, NO_RISK, false);
  };

  function recordRisk(risk: RiskAssessment, decision: Decision, clientIp: string) {
    metrics.riskScore.observe(risk.score);
    for (const reason of risk.reasons) metrics.riskSignals.inc({ signal: reason.signal });
    if (risk.block) metrics.riskSignals.inc({ signal: risk.block.signal });
    if (decision.kind === "rate_limited") {
      // A client over the hard limit earns dynamic reputation; fire and forget, off the decision path.
      const { rate_violation_points, ttl } = config.risk.dynamic_ip;
      stores.counters.add(ipReputationKey(clientIp), rate_violation_points, ttl).catch(() => {
        metrics.storeErrors.inc();
      });
    }
  }
}
