/**
 * `vigil explain`: what /auth would answer for a request, and why. It runs the decision path's
 * own code on a described request — the forwardAuth parser, the policy match, the risk engine,
 * decide() and the HTTP mapping — so it cannot drift from the server. Nothing is written: the
 * rate counters are not bumped (their counts come from the caller), and the store, when there is
 * one, is only read (the user's status and groups, the address's dynamic reputation).
 */
import type { Config } from "../config/load.ts";
import { effectiveAction } from "../core/decide.ts";
import { evaluate, evaluationSettings, needsDecisionState, type StoredState } from "../core/evaluate.ts";
import type { IdentityState } from "../core/identity.ts";
import type {
  AddressOptions,
  Decision,
  RateCounts,
  RequestFacts,
  RiskAssessment,
  RiskThresholds,
  Session,
  User,
} from "../core/types.ts";
import { parseAddressOptions, parseForwardedRequest } from "../http/forward-auth/request.ts";
import { toResponse } from "../http/forward-auth/response.ts";
import { clientKey } from "../net/client-prefix.ts";
import type { Policy } from "../policy/compile.ts";
import { routeRequest } from "../policy/engine.ts";
import { ipReputationKey, type Stores } from "../ports.ts";
import { type GeoPoint, type IpListMatcher, RiskSignalName } from "../risk/types.ts";
import { hashUserAgent } from "../risk/user-agent-hash.ts";

export class ExplainError extends Error {
  override name = "ExplainError";
}

/** The request to explain, as an operator describes it. */
export interface ExplainRequest {
  /** The original URL, e.g. https://app.example.com/admin/users */
  url: string;
  /** The client's address (after the trusted proxies). */
  ip: string;
  method?: string;
  userAgent?: string;
  /** A browser navigation (Accept: text/html) rather than an API client. */
  browser?: boolean;
  /** Who is signed in; undefined with `anonymous` = nobody. */
  user?: string;
  /** The user's groups when the user is not read from a store. */
  groups?: string[];
  /** No session at all (what an anonymous client gets). */
  anonymous?: boolean;
  /** Baseline country of the session (where it signed in or last stepped up); default: the request's. */
  sessionCountry?: string;
  /** Baseline user agent of the session; default: the request's (no client change). */
  sessionUserAgent?: string;
  /** Requests already in the current rate window, per session, user and IP, including this one. */
  requests?: number;
  /** Options on the forwardAuth address, e.g. "/auth?stepup=300&group=admins". */
  address?: string;
}

export interface ExplainDeps {
  config: Config;
  policy: Policy;
  /** Where the policy came from, for the report. */
  policySource: string;
  lists: readonly IpListMatcher[];
  geo: (ip: string) => GeoPoint | undefined;
  now: number;
  /** The shared store, when configured: read only. */
  stores?: Pick<Stores, "users" | "counters">;
}

export interface HttpAnswer {
  client: "browser" | "api";
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ExplainReport {
  request: {
    method: string;
    url: string;
    clientIp: string;
    userAgent: string;
    browser: boolean;
    address: AddressOptions;
  };
  policy: { version: string; source: string };
  rule: {
    name: string;
    /** false when no rule matched and the policy's default applied. */
    matched: boolean;
    action: string;
    /** The action after the address options tightened it. */
    maxAgeSec: number | undefined;
    thresholds: RiskThresholds;
    /** true when the rule sets its own risk thresholds. */
    ownThresholds: boolean;
  };
  identity: {
    kind: IdentityState["kind"] | "not_read";
    reason: string | undefined;
    userId: string | undefined;
    groups: string[];
    status: string | undefined;
    /** store = read from Redis; assumed = a fresh signed-in user as described; none = anonymous. */
    source: "store" | "assumed" | "none";
  };
  location: GeoPoint | undefined;
  baseline: { ip: string; country: string; userAgentChanged: boolean } | undefined;
  inputs: { rate: RateCounts; ipReputation: number; ipReputationSource: "store" | "none" };
  /** false when the rule answers without the store, so the risk engine does not run. */
  riskEvaluated: boolean;
  risk: RiskAssessment;
  decision: Decision;
  /** The requested client's answer first. */
  answers: HttpAnswer[];
}

const DEFAULT_UA = "Mozilla/5.0 (vigil explain)";

export async function explainRequest(request: ExplainRequest, deps: ExplainDeps): Promise<ExplainReport> {
  const { config, policy, now } = deps;
  const url = parseUrl(request.url);
  const userAgent = request.userAgent ?? DEFAULT_UA;
  const factsFor = (browser: boolean) => parseFacts(url, request, userAgent, browser, config);
  const facts = factsFor(request.browser === true);

  const addressQuery = request.address ? new URL(request.address, "http://vigil").searchParams : undefined;
  const address = parseAddressOptions(addressQuery ?? new URLSearchParams());
  if (!address.ok) throw new ExplainError(`--address: ${address.error}`);
  const options = address.value;

  const route = routeRequest(policy, {
    host: facts.host,
    rawPath: facts.path,
    method: facts.method,
    clientIp: facts.clientIp,
  });
  if (!route.ok) throw new ExplainError(`--url: ${route.error}`);
  const rule = route.rule;
  const location = deps.geo(facts.clientIp);

  const riskEvaluated = needsDecisionState(rule, options);
  let identitySource: ExplainReport["identity"]["source"] = "none";
  let session: Session | undefined;
  let user: User | undefined;
  let ipReputation = 0;
  const requests = Math.max(1, request.requests ?? 1);
  const rate: RateCounts = { session: requests, user: requests, ip: requests };
  if (riskEvaluated) {
    if (deps.stores) ipReputation = await deps.stores.counters.get(ipReputationKey(facts.clientKey));
    if (!request.anonymous) {
      const userId = request.user ?? "someone";
      if (deps.stores && request.user !== undefined) {
        user = await deps.stores.users.get(userId);
        identitySource = "store";
      } else {
        user = {
          id: userId,
          displayName: userId,
          status: "active",
          groups: request.groups ?? [],
          createdAt: now,
        };
        identitySource = "assumed";
      }
      session = freshSession(userId, config, now, {
        ip: facts.clientIp,
        country: (request.sessionCountry ?? location?.country ?? "").toUpperCase(),
        uaHash: hashUserAgent(request.sessionUserAgent ?? userAgent),
      });
    } else {
      // Without a session only the address is counted.
      rate.session = 0;
      rate.user = 0;
    }
  }
  const state: StoredState = { session, user, rate, ipReputation };
  const { identity, risk, decision } = evaluate(
    {
      facts,
      options,
      policy,
      rule,
      lists: deps.lists,
      now,
      credential: session ? "session" : "none",
      claims: undefined,
      state,
      location,
      userAgentHash: hashUserAgent(facts.userAgent),
    },
    evaluationSettings(config),
  );

  const settings = { publicOrigin: config.publicOrigin };
  const requested = request.browser === true ? "browser" : "api";
  const answers: HttpAnswer[] = [await answerOf(requested, decision, facts, settings)];
  const other = factsFor(requested !== "browser");
  // For a method a browser cannot be redirected on, both kinds of client get the same answer.
  if (other.isBrowser !== facts.isBrowser) {
    answers.push(await answerOf(requested === "browser" ? "api" : "browser", decision, other, settings));
  }

  const { action, maxAgeMs } = effectiveAction(rule, options);
  return {
    request: {
      method: facts.method,
      url: facts.originalUrl,
      clientIp: facts.clientIp,
      userAgent,
      browser: facts.isBrowser,
      address: options,
    },
    policy: { version: policy.version, source: deps.policySource },
    rule: {
      name: rule.name,
      matched: rule !== policy.fallback,
      action,
      maxAgeSec: Number.isFinite(maxAgeMs) ? maxAgeMs / 1000 : undefined,
      thresholds: rule.risk,
      ownThresholds: rule.risk !== policy.risk,
    },
    identity: describeIdentity(identity, user, identitySource, riskEvaluated),
    location,
    baseline:
      session && identity.kind === "known"
        ? {
            ip: session.ip,
            country: session.country,
            userAgentChanged: session.uaHash !== hashUserAgent(facts.userAgent),
          }
        : undefined,
    inputs: { rate, ipReputation, ipReputationSource: deps.stores ? "store" : "none" },
    riskEvaluated,
    risk,
    decision,
    answers,
  };
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ExplainError(`--url: not an absolute URL: ${text}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ExplainError(`--url: must be http:// or https://, got ${url.protocol}`);
  }
  return url;
}

/** The request as Traefik would forward it, through the server's own parser. */
function parseFacts(
  url: URL,
  request: ExplainRequest,
  userAgent: string,
  browser: boolean,
  config: Config,
): RequestFacts {
  const headers: Record<string, string> = {
    "x-forwarded-method": (request.method ?? "GET").toUpperCase(),
    "x-forwarded-proto": url.protocol.slice(0, -1),
    "x-forwarded-host": url.host,
    "x-forwarded-uri": `${url.pathname}${url.search}`,
    "user-agent": userAgent,
    accept: browser ? "text/html,application/xhtml+xml" : "application/json",
  };
  // The address is the peer itself: no proxy to walk through.
  const parsed = parseForwardedRequest((name) => headers[name], {
    peer: request.ip,
    isTrustedProxy: () => false,
    clientKey: (ip) => clientKey(ip, config.client_prefix),
  });
  if (!parsed.ok) {
    const field = parsed.error.startsWith("peer")
      ? "--ip: not an IP address"
      : parsed.tooLarge
        ? `--ua: ${parsed.error}`
        : `--url: ${parsed.error}`;
    throw new ExplainError(field);
  }
  return parsed.value;
}

/** A session just signed in from `baseline` with the configured sign-in acr. */
function freshSession(
  userId: string,
  config: Config,
  now: number,
  baseline: Pick<Session, "ip" | "country" | "uaHash">,
): Session {
  return {
    id: "explain",
    userId,
    acr: config.session.signin_acr,
    amr: ["hwk", "user"],
    authAt: now,
    stepUpAt: 0,
    ...baseline,
    lastLat: Number.NaN,
    lastLon: Number.NaN,
    lastLocatedAt: 0,
    lastSeenAt: now,
    createdAt: now,
  };
}

function describeIdentity(
  identity: IdentityState,
  user: User | undefined,
  source: ExplainReport["identity"]["source"],
  read: boolean,
): ExplainReport["identity"] {
  if (!read) {
    return { kind: "not_read", reason: undefined, userId: undefined, groups: [], status: undefined, source };
  }
  if (identity.kind === "anonymous") {
    return {
      kind: "anonymous",
      reason: identity.reason,
      userId: user?.id,
      groups: user?.groups ?? [],
      status: user?.status,
      source,
    };
  }
  return {
    kind: identity.kind,
    reason: undefined,
    userId: identity.identity.userId,
    groups: identity.identity.groups,
    status: user?.status,
    source,
  };
}

async function answerOf(
  client: HttpAnswer["client"],
  decision: Decision,
  facts: RequestFacts,
  settings: { publicOrigin: string },
): Promise<HttpAnswer> {
  const response = toResponse(decision, facts, settings);
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) {
    if (name === "cache-control" || name === "content-security-policy" || name === "content-type") continue;
    headers[name] = value;
  }
  const type = response.headers.get("content-type") ?? "";
  const body = type.includes("json")
    ? await response.text()
    : type.includes("html")
      ? `(an HTML page, reason ${decision.reasons[0] ?? "unknown"})`
      : "";
  return { client, status: response.status, headers, body };
}

/* ------------------------------------------------------------------------------------------ */

const ALL_SIGNALS = Object.values(RiskSignalName);

/** The report as text for a terminal. */
export function formatExplainReport(report: ExplainReport): string {
  const out: string[] = [];
  const field = (name: string, value: string) => out.push(`${name.padEnd(10)}${value}`);
  const { request, rule, identity, risk } = report;

  const where = report.location ? `${report.location.country}` : "no location: private, reserved or unknown";
  field("request", `${request.method} ${request.url}`);
  field("", `from ${request.clientIp} (${where}), ${request.browser ? "browser" : "API client"}`);
  if (request.address.stepUpMaxAgeSec !== undefined || request.address.groups.length > 0) {
    const parts = [
      request.address.stepUpMaxAgeSec !== undefined ? `stepup=${request.address.stepUpMaxAgeSec}` : "",
      request.address.groups.length > 0 ? `group=${request.address.groups.join(",")}` : "",
    ].filter(Boolean);
    field("address", `/auth?${parts.join("&")}`);
  }
  field("policy", `version ${report.policy.version} (${report.policy.source})`);
  const maxAge = rule.maxAgeSec !== undefined ? `, max_age ${rule.maxAgeSec} s` : "";
  field("rule", `${rule.name}${rule.matched ? "" : " (no rule matched: the policy default)"}`);
  field("", `action ${rule.action}${maxAge}`);
  field(
    "",
    `risk: step-up at ${rule.thresholds.stepupAt}, deny at ${rule.thresholds.denyAt}` +
      (rule.ownThresholds ? " (the rule's own)" : " (the policy's)"),
  );

  if (identity.kind === "not_read") {
    field("identity", "not read: this rule answers without the store");
  } else if (identity.kind === "anonymous") {
    const who = identity.userId ? `${identity.userId}: ` : "";
    field("identity", `${who}none (${identity.reason})`);
  } else {
    const groups = identity.groups.length > 0 ? identity.groups.join(",") : "(no groups)";
    const from = identity.source === "store" ? "read from the store" : "assumed";
    field(
      "identity",
      `${identity.userId} [${groups}] ${identity.kind === "suspended" ? "SUSPENDED " : ""}(${from})`,
    );
  }
  if (report.baseline) {
    const country = report.baseline.country || "unknown";
    field(
      "session",
      `fresh sign-in, baseline country ${country}, ` +
        (report.baseline.userAgentChanged ? "another user agent" : "same user agent"),
    );
  }

  if (!report.riskEvaluated) {
    field("risk", "not evaluated: bypass and deny rules answer without the store");
  } else {
    out.push("signals");
    const fired = new Set(risk.reasons.map((reason) => reason.signal));
    for (const reason of risk.reasons) {
      out.push(`  ${`+${reason.points}`.padStart(4)}  ${reason.signal.padEnd(19)}${reason.detail}`);
    }
    if (risk.block) out.push(`  ${"DENY".padStart(4)}  ${risk.block.signal.padEnd(19)}${risk.block.detail}`);
    if (risk.rateLimitedForSec !== undefined) {
      out.push(
        `  ${"429".padStart(4)}  ${"rate".padEnd(19)}over a hard limit, retry after ${risk.rateLimitedForSec} s`,
      );
    }
    const quiet = ALL_SIGNALS.filter((name) => !fired.has(name) && name !== risk.block?.signal);
    for (const name of quiet)
      out.push(`  ${"0".padStart(4)}  ${name.padEnd(19)}${quietDetail(name, report)}`);
    const { stepupAt, denyAt } = rule.thresholds;
    const verdict =
      risk.score >= denyAt
        ? `at or above deny_at ${denyAt}`
        : risk.score >= stepupAt
          ? `at or above stepup_at ${stepupAt}, below deny_at ${denyAt}`
          : `below stepup_at ${stepupAt}`;
    field("score", `${risk.score}/100: ${verdict}`);
    if (risk.block) field("", "a deny list blocks whatever the score");
  }

  const decision = report.decision;
  field("decision", `${decision.kind.toUpperCase()} (${decision.reasons.join(", ")})`);
  const [first, second] = report.answers;
  const same =
    first && second && JSON.stringify({ ...first, client: "" }) === JSON.stringify({ ...second, client: "" });
  for (const answer of same ? [first] : report.answers) {
    const label = same ? "browser and API" : answer.client === "browser" ? "browser" : "API";
    const headers = Object.entries(answer.headers).map(([name, value]) => `${name}: ${value}`);
    out.push(`answer    ${label}: ${answer.status}`);
    for (const header of headers) out.push(`            ${header}`);
    if (answer.body) out.push(`            ${answer.body}`);
  }
  return out.join("\n");
}

function quietDetail(signal: string, report: ExplainReport): string {
  switch (signal) {
    case RiskSignalName.ipList:
      return "not on any list";
    case RiskSignalName.ipReputation:
      return report.inputs.ipReputationSource === "store"
        ? "no recent failed step-ups or rate violations"
        : "not read (no store configured)";
    case RiskSignalName.countryMismatch:
      if (!report.location) return "no evidence (no location for this address)";
      if (!report.baseline) return "no evidence (no session)";
      return report.baseline.country ? "same country as the session" : "no evidence (session has no country)";
    case RiskSignalName.impossibleTravel:
      return "no evidence (a fresh session has no last seen location)";
    case RiskSignalName.rate:
      return `under the soft limits (${report.inputs.rate.ip} request(s) in the window)`;
    case RiskSignalName.userAgent:
      return report.baseline ? "same user agent as the session" : "no evidence (no session)";
    default:
      return "no evidence";
  }
}
