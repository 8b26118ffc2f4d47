/**
 * GET /auth: parse → match rule → one store round trip → risk → decide → respond → observe.
 * Framework-free (Request in, Response out) so it is cheap and testable; app.ts mounts it.
 */
import type { Config } from "../../config/load.ts";
import {
  type EvaluationInput,
  evaluate,
  evaluationSettings,
  needsDecisionState,
} from "../../core/evaluate.ts";
import { Reason } from "../../core/reasons.ts";
import type { AddressOptions, Decision, RiskAssessment } from "../../core/types.ts";
import { memoize } from "../../lib/memoize.ts";
import { clientKey } from "../../net/client-prefix.ts";
import { createDecisionLogger, type Logger } from "../../observe/logger.ts";
import type { Metrics } from "../../observe/metrics.ts";
import type { Policy } from "../../policy/compile.ts";
import { routeRequest } from "../../policy/engine.ts";
import { type BearerVerifier, ipReputationKey, type Stores } from "../../ports.ts";
import type { GeoPoint, IpListMatcher } from "../../risk/types.ts";
import { hashUserAgent } from "../../risk/user-agent-hash.ts";
import { sessionIdFromToken } from "../../session/token.ts";
import { storeFailureCause } from "../../store-errors.ts";
import { brandingOf } from "../ui/branding.ts";
import { wantsHtml } from "../ui/error-pages.tsx";
import { aliasedIdentityHeader } from "./aliased-headers.ts";
import { createHeaderGarbageBudget, HEADER_GARBAGE_DEFAULTS } from "./header-garbage.ts";
import { normaliseIp, parseAddressOptions, parseForwardedRequest } from "./request.ts";
import { badRequest, headerTooLarge, toResponse } from "./response.ts";

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
  /** A full garbage collection (Bun.gc(true)); injectable so the header budget is testable. */
  collectGarbage?: () => void;
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
  value: Object.freeze({ stepUpMaxAgeSec: undefined, groups: Object.freeze([]) }),
}) as { ok: true; value: AddressOptions };

/** forwardAuth handler: a Response at once when no store read is needed (bypass, deny, malformed). */
export type ForwardAuthHandler = (
  request: Request,
  peer: string,
  url?: string,
) => Response | Promise<Response>;

export function createForwardAuthHandler(deps: ForwardAuthDeps): ForwardAuthHandler {
  const { config, stores, metrics, logger } = deps;
  const random = deps.random ?? Math.random;
  const countHeaderBytes = createHeaderGarbageBudget({
    ...HEADER_GARBAGE_DEFAULTS,
    collect: deps.collectGarbage ?? (() => Bun.gc(true)),
  });
  const settings = evaluationSettings(config);
  const responseSettings = { publicOrigin: config.publicOrigin, branding: brandingOf(config) };
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
  const parseContext = {
    peer: "",
    isTrustedProxy: deps.isTrustedProxy,
    clientKey: memoize((ip: string) => clientKey(ip, config.client_prefix)),
  };

  /** Metrics and the decision log; `risk` only when the risk engine ran. */
  function observe(
    input: EvaluationInput,
    started: number,
    decision: Decision,
    risk: RiskAssessment | undefined,
  ) {
    const facts = input.facts;
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
        policy: input.policy.version,
        latency_us: Math.round(seconds * 1e6),
      },
      "decision",
    );
  }

  function refuse(error: string, fields: Record<string, string>, message: string, html = false): Response {
    countDecision("bad_request", Reason.badRequest);
    const peer = fields.peer === undefined ? undefined : (normaliseIp(fields.peer) ?? fields.peer);
    logger.warn({ decision: "bad_request", error, ...fields, peer }, message);
    return badRequest(error, html ? responseSettings : undefined);
  }

  function refuseTooLarge(error: string, peer: string): Response {
    countDecision("bad_request", Reason.headerTooLarge);
    logger.warn({ decision: "bad_request", error, peer }, "forwardAuth request header too large");
    return headerTooLarge(error);
  }

  /** evaluate() → metrics → Response → decision log: the common tail of every decision. */
  function conclude(input: EvaluationInput, started: number): Response {
    const evaluation = evaluate(input, settings);
    const { decision, risk } = evaluation;
    if (evaluation.riskAssessed) recordRisk(risk, decision, input.facts.clientKey);
    const response = toResponse(decision, input.facts, responseSettings);
    observe(input, started, decision, evaluation.riskAssessed ? risk : undefined);
    return response;
  }

  /** The store being down answers 503 (fail closed). */
  function unavailable(input: EvaluationInput, started: number): Response {
    const decision: Decision = {
      kind: "unavailable",
      rule: input.rule.name,
      reasons: [Reason.storeUnavailable],
    };
    const response = toResponse(decision, input.facts, responseSettings);
    observe(input, started, decision, undefined);
    return response;
  }

  /** The credential, then the single store round trip, then the evaluation. Store failures fail closed. */
  async function decideWithState(input: EvaluationInput, started: number): Promise<Response> {
    const { facts, now } = input;
    let sessionId: string | undefined;
    if (facts.sessionToken) {
      input.credential = "session";
      sessionId = sessionIdFromToken(facts.sessionToken);
    } else if (facts.bearerToken) {
      input.credential = "token";
      input.claims = deps.bearer ? await deps.bearer.verify(facts.bearerToken, now) : undefined;
      if (!input.claims) return conclude(input, started);
    }
    input.location = deps.geo(facts.clientIp);
    input.userAgentHash = userAgentHash(facts.userAgent);
    try {
      input.state = await stores.decisions.read({
        sessionId,
        userId: input.claims?.userId,
        clientKey: facts.clientKey,
        now,
        rateWindowMs: config.risk.rate.window,
        // The memoised geo answer itself (read-only): it has lat and lon.
        location: input.location,
        idleTimeoutMs: config.session.idle_timeout,
      });
    } catch (error) {
      metrics.storeErrors.inc();
      const err = (error as Error).message;
      // cause: e.g. out_of_memory (Redis full under noeviction), not_enough_replicas, disconnected.
      logger.error({ err, cause: storeFailureCause(err) }, "store read failed on the decision path");
      return unavailable(input, started);
    }
    return conclude(input, started);
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
    if (!parsed.ok) {
      if (parsed.tooLarge) return refuseTooLarge(parsed.error, peer);
      const html = wantsHtml(request.headers.get("accept"));
      return refuse(parsed.error, { peer }, "malformed forwardAuth request", html);
    }
    if (!options.ok) {
      const html = wantsHtml(request.headers.get("accept"));
      return refuse(options.error, { peer }, "malformed forwardAuth request", html);
    }
    const alias = aliasedIdentityHeader(request.headers);
    if (alias !== undefined) {
      return refuse(
        `header ${alias} spells an identity header another way; backends may read it as that header`,
        { peer, header: alias },
        "aliased identity header refused",
        wantsHtml(request.headers.get("accept")),
      );
    }
    const facts = parsed.value;
    countHeaderBytes(facts.headerBytes);
    const policy = deps.policy.current();
    const route = routeRequest(policy, {
      host: facts.host,
      rawPath: facts.path,
      method: facts.method,
      clientIp: facts.clientIp,
    });
    if (!route.ok) {
      return refuse(route.error, { host: facts.host }, "ambiguous request path refused", facts.isBrowser);
    }
    // One object per request carries it through the store read to evaluate().
    const input: EvaluationInput = {
      facts,
      options: options.value,
      policy,
      rule: route.rule,
      lists: deps.ipLists.current(),
      now: deps.clock(),
      credential: "none",
      claims: undefined,
      state: undefined,
      location: undefined,
      userAgentHash: "",
    };
    if (needsDecisionState(input.rule, input.options)) return decideWithState(input, started);
    // Bypass and deny rules: no store, no risk, answered synchronously.
    return conclude(input, started);
  };

  function recordRisk(risk: RiskAssessment, decision: Decision, clientKey: string) {
    metrics.riskScore.observe(risk.score);
    for (const reason of risk.reasons) metrics.riskSignals.inc({ signal: reason.signal });
    if (risk.block) metrics.riskSignals.inc({ signal: risk.block.signal });
    if (decision.kind === "rate_limited") {
      // A client over the hard limit earns dynamic reputation; fire and forget, off the decision path.
      const { rate_violation_points, ttl } = config.risk.dynamic_ip;
      stores.counters.add(ipReputationKey(clientKey), rate_violation_points, ttl).catch(() => {
        metrics.storeErrors.inc();
      });
    }
  }
}
