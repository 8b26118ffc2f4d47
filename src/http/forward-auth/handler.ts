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

const NO_QUERY: URLSearchParams = new URLSearchParams();

/** The forwardAuth address's own query (?stepup=, ?group=) without building a whole URL. */
function addressQuery(url: string): URLSearchParams {
  const at = url.indexOf("?");
  return at < 0 ? NO_QUERY : new URLSearchParams(url.slice(at + 1));
}

interface Gathered {
  identity: IdentityState;
  risk: RiskAssessment;
  unavailable: boolean;
}

export function createForwardAuthHandler(deps: ForwardAuthDeps) {
  const { config, stores, metrics, logger } = deps;
  const random = deps.random ?? Math.random;
  const { timeouts, stepUp } = decisionSettings(config);
  const responseSettings = { publicOrigin: config.publicOrigin };
  // Pure functions of the request's own text, memoised (bounded): one browser sends the same
  // user agent on every request. Nothing read from the store is ever kept.
  const userAgentHash = memoize(hashUserAgent, 1024);
  const decisionLog = createDecisionLogger(logger);
  /** prom-client children per label set, so a decision costs no label validation. */
  const decisionCounters = new Map<string, { inc(): void }>();
  const decisionTimers = new Map<string, { observe(value: number): void }>();
  const countDecision = (kind: string, reason: string) => {
    const key = `${kind}\0${reason}`;
    let child = decisionCounters.get(key);
    if (child === undefined) {
      child = metrics.decisions.labels(kind, reason);
      decisionCounters.set(key, child);
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

  /** The single store round trip, then identity and risk. Store failures fail closed. */
  async function gather(facts: RequestFacts, now: number): Promise<Gathered> {
    const location = deps.geo(facts.clientIp);
    let claims: Awaited<ReturnType<BearerVerifier["verify"]>>;
    let sessionId: string | undefined;
    if (facts.sessionToken) {
      sessionId = sessionIdFromToken(facts.sessionToken);
    } else if (facts.bearerToken) {
      claims = deps.bearer ? await deps.bearer.verify(facts.bearerToken, now) : undefined;
      if (!claims)
        return {
          identity: { kind: "anonymous", reason: Reason.tokenInvalid },
          risk: NO_RISK,
          unavailable: false,
        };
    }
    let state: DecisionState;
    try {
      state = await stores.decisions.read({
        sessionId,
        userId: claims?.sub,
        clientIp: facts.clientIp,
        now,
        rateWindowMs: config.risk.rate.window,
        location: location && { lat: location.lat, lon: location.lon },
        idleTimeoutMs: config.session.idle_timeout,
      });
    } catch (error) {
      metrics.storeErrors.inc();
      logger.error({ err: (error as Error).message }, "store read failed on the decision path");
      return {
        identity: { kind: "anonymous", reason: Reason.storeUnavailable },
        risk: NO_RISK,
        unavailable: true,
      };
    }
    const identity: IdentityState = claims
      ? identityFromToken(claims, state.user)
      : sessionId
        ? identityFromSession(state.session, state.user, now, timeouts)
        : { kind: "anonymous", reason: Reason.noCredentials };
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
    return { identity, risk, unavailable: false };
  }

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

  return async function handleForwardAuth(request: Request, peer: string): Promise<Response> {
    const started = performance.now();
    const headers = request.headers; // one Headers object, not one per read
    const parsed = parseForwardedRequest((name) => headers.get(name) ?? undefined, {
      peer,
      isTrustedProxy: deps.isTrustedProxy,
    });
    const options = parseAddressOptions(addressQuery(request.url));
    if (!parsed.ok || !options.ok) {
      const error = parsed.ok ? (options as { error: string }).error : parsed.error;
      countDecision("bad_request", Reason.badRequest);
      logger.warn({ decision: "bad_request", error, peer }, "malformed forwardAuth request");
      return badRequest(error);
    }
    const facts = parsed.value;
    const policy = deps.policy.current();
    const route = routeRequest(policy, {
      host: facts.host,
      rawPath: facts.path,
      method: facts.method,
      clientIp: facts.clientIp,
    });
    if (!route.ok) {
      countDecision("bad_request", Reason.badRequest);
      logger.warn(
        { decision: "bad_request", error: route.error, host: facts.host },
        "ambiguous request path refused",
      );
      return badRequest(route.error);
    }
    const rule = route.rule;
    const now = deps.clock();
    const needsState = needsDecisionState(rule, options.value);
    const gathered: Gathered = needsState
      ? await gather(facts, now)
      : { identity: { kind: "anonymous", reason: Reason.noCredentials }, risk: NO_RISK, unavailable: false };

    let decision: Decision;
    let assessed: RiskAssessment | undefined;
    if (gathered.unavailable) {
      decision = { kind: "unavailable", rule: rule.name, reasons: [Reason.storeUnavailable] };
    } else {
      decision = decide({
        now,
        rule,
        options: options.value,
        isPreflight: facts.isPreflight,
        corsPreflight: policy.corsPreflight,
        clientIp: facts.clientIp,
        identity: gathered.identity,
        risk: gathered.risk,
        stepUp,
      });
      if (needsState) {
        assessed = gathered.risk;
        recordRisk(gathered.risk, decision, facts.clientIp);
      }
    }
    const response = toResponse(decision, facts, responseSettings);
    observe(decision, facts, policy.version, started, assessed);
    return response;
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
