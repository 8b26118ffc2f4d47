/** First match wins; no match = the policy's default. */
import type { CompiledRule, MatchFacts, Policy } from "./compile.ts";
import { requestPath } from "./request-path.ts";

/** The first rule whose conditions all hold for the request, else the default rule. */
export function matchRule(policy: Policy, facts: MatchFacts): CompiledRule {
  for (const rule of policy.rules) {
    if (rule.matches(facts)) return rule;
  }
  return policy.fallback;
}

export type RouteResult = { ok: true; rule: CompiledRule } | { ok: false; error: string };

/**
 * The rule for a request as received (raw, still-encoded path): refuses paths whose meaning depends
 * on the backend (see requestPath), normalises the rest, then matches.
 */
export function routeRequest(
  policy: Policy,
  request: { host: string; rawPath: string; method: string; clientIp: string },
): RouteResult {
  const path = requestPath(request.rawPath, policy);
  if (!path.ok) return path;
  const facts = { host: request.host, path: path.path, method: request.method, clientIp: request.clientIp };
  const rule = matchRule(policy, facts);
  // Backends that neither decode %-encoded letters nor collapse "//" (Express, WHATWG URL readers)
  // serve the path as written: when that reading meets another rule, no single answer is safe.
  const asWritten = path.asWritten;
  if (asWritten !== path.path && matchRule(policy, { ...facts, path: asWritten }) !== rule) {
    return { ok: false, error: AMBIGUOUS_ENCODING };
  }
  return { ok: true, rule };
}

const AMBIGUOUS_ENCODING =
  "path meets another rule as written than once normalised (%-encoded letters or '//'), which backends read differently";
