/** First match wins; no match = the policy's default. */
import type { CompiledRule, MatchFacts, Policy } from "./compile.ts";

export function matchRule(policy: Policy, facts: MatchFacts): CompiledRule {
  for (const rule of policy.rules) {
    if (rule.matches(facts)) return rule;
  }
  return policy.fallback;
}
