/** First match wins; no match = the policy's default. */
import type { CompiledRule, MatchFacts, Policy } from "./compile.ts";
import { normalisePath } from "./matchers/path.ts";

/** The first rule whose conditions all hold for the request, else the default rule. */
export function matchRule(policy: Policy, facts: MatchFacts): CompiledRule {
  for (const rule of policy.rules) {
    if (rule.matches(facts)) return rule;
  }
  return policy.fallback;
}

const AMBIGUOUS_PATH = /%2f|%5c|%00|\\/i;

export type RouteResult = { ok: true; rule: CompiledRule } | { ok: false; error: string };

/**
 * The rule for a request as received (raw, still-encoded path): refuses paths whose meaning depends
 * on the backend (see the policy's encoded_slashes), normalises the rest, then matches.
 */
export function routeRequest(
  policy: Policy,
  request: { host: string; rawPath: string; method: string; clientIp: string },
): RouteResult {
  if (policy.encodedSlashes === "reject" && AMBIGUOUS_PATH.test(request.rawPath)) {
    return {
      ok: false,
      error: "path holds an encoded slash, backslash or NUL (policy encoded_slashes: reject)",
    };
  }
  const rule = matchRule(policy, {
    host: request.host,
    path: normalisePath(request.rawPath),
    method: request.method,
    clientIp: request.clientIp,
  });
  return { ok: true, rule };
}
