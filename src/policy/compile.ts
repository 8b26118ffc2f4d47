/**
 * Compiles a policy file into matchers once, at load, so matching a request is a handful of
 * set lookups and precompiled regexes. Throws PolicyError (naming the rule and field) on any fault.
 */
import { parse as parseYaml } from "yaml";
import type { Action, RiskThresholds } from "../core/types.ts";
import { compileHosts, type HostMatcher } from "./matchers/host.ts";
import { compileMethods, type MethodMatcher } from "./matchers/method.ts";
import { compileNetworks, type NetworkMatcher } from "./matchers/network.ts";
import { compilePaths, type PathMatcher } from "./matchers/path.ts";
import { type PolicyFile, policySchema, type RuleFile } from "./schema.ts";

/** A policy file that cannot be served; the message names the rule and field. */
export class PolicyError extends Error {
  override name = "PolicyError";
}

/** What a rule matches on: the request's facts after normalisation. */
export interface MatchFacts {
  host: string;
  /** Normalised path (see normalisePath). */
  path: string;
  method: string;
  clientIp: string;
}

export interface CompiledRule {
  name: string;
  action: Action;
  /** For stepup: the oldest acceptable passkey check, ms; undefined for other actions. */
  maxAgeMs: number | undefined;
  /** For stepup: the one kind of check that satisfies it; undefined = a passkey or the IdP. */
  stepUpVia?: "passkey" | "idp" | undefined;
  users: ReadonlySet<string> | undefined;
  groups: readonly string[] | undefined;
  risk: RiskThresholds;
  /** Hosts written as exact names or wildcards, for rd validation. */
  hostPatterns: readonly string[];
  matches(facts: MatchFacts): boolean;
}

export interface Policy {
  /** Content hash or the file's own `version` label. */
  version: string;
  rules: readonly CompiledRule[];
  /** The rule used when none matches. */
  fallback: CompiledRule;
  risk: RiskThresholds;
  corsPreflight: "allow" | "authenticate";
  encodedSlashes: "reject" | "keep";
  pathParameters: "reject" | "strip";
}

const toThresholds = (t: { stepup_at: number; deny_at: number }): RiskThresholds => ({
  stepupAt: t.stepup_at,
  denyAt: t.deny_at,
});

function compileRule(rule: RuleFile, policyRisk: RiskThresholds, defaultMaxAgeMs: number): CompiledRule {
  const conditions: Array<(facts: MatchFacts) => boolean> = [];
  const within = (field: string, build: () => void) => {
    try {
      build();
    } catch (error) {
      throw new PolicyError(`rule "${rule.name}": ${field}: ${(error as Error).message}`);
    }
  };
  within("hosts", () => {
    if (!rule.hosts) return;
    const hosts: HostMatcher = compileHosts(rule.hosts);
    conditions.push((facts) => hosts(facts.host));
  });
  within("paths", () => {
    if (!rule.paths && rule.path_regex === undefined) return;
    const paths: PathMatcher = compilePaths(rule.paths, rule.path_regex);
    conditions.push((facts) => paths(facts.path));
  });
  within("methods", () => {
    if (!rule.methods) return;
    const methods: MethodMatcher = compileMethods(rule.methods);
    conditions.push((facts) => methods(facts.method));
  });
  within("networks", () => {
    if (!rule.networks) return;
    const networks: NetworkMatcher = compileNetworks(rule.networks);
    conditions.push((facts) => networks(facts.clientIp));
  });
  if (rule.max_age !== undefined && rule.action !== "stepup") {
    throw new PolicyError(`rule "${rule.name}": max_age: only applies to action stepup`);
  }
  if (rule.via !== undefined && rule.action !== "stepup") {
    throw new PolicyError(`rule "${rule.name}": via: only applies to action stepup`);
  }
  const via = new Set(rule.via ?? []);
  return {
    name: rule.name,
    action: rule.action,
    maxAgeMs: rule.action === "stepup" ? (rule.max_age ?? defaultMaxAgeMs) : undefined,
    stepUpVia: via.size === 1 ? [...via][0] : undefined,
    users: rule.users ? new Set(rule.users) : undefined,
    groups: rule.groups,
    risk: rule.risk ? toThresholds(rule.risk) : policyRisk,
    hostPatterns: rule.hosts ?? [],
    matches: (facts) => {
      for (let i = 0; i < conditions.length; i++) if (!conditions[i]!(facts)) return false;
      return true;
    },
  };
}

export interface CompileOptions {
  /** max_age for stepup rules that name none (config stepup.default_max_age). */
  defaultMaxAgeMs: number;
}

/** Validates and compiles parsed policy data. */
export function compilePolicy(data: unknown, version: string, options: CompileOptions): Policy {
  const parsed = policySchema.safeParse(data ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const path = issue.path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`));
      const where = rulePath(data, issue.path) ?? (path.join("").replace(/^\./, "") || "(top level)");
      return `${where}: ${issue.message}`;
    });
    throw new PolicyError(`invalid policy: ${issues.join("; ")}`);
  }
  const file: PolicyFile = parsed.data;
  const risk = toThresholds(file.risk);
  const names = new Set<string>();
  const rules = file.rules.map((rule) => {
    if (names.has(rule.name)) throw new PolicyError(`rule "${rule.name}": name used twice`);
    names.add(rule.name);
    return compileRule(rule, risk, options.defaultMaxAgeMs);
  });
  const fallback = compileRule({ name: "default", action: file.default }, risk, options.defaultMaxAgeMs);
  return {
    version: file.version ?? version,
    rules,
    fallback,
    risk,
    corsPreflight: file.cors_preflight,
    encodedSlashes: file.encoded_slashes,
    pathParameters: file.path_parameters,
  };
}

/** Names a failing field by its rule name, e.g. rules[2] "admin".max_age. */
function rulePath(data: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== "rules" || typeof path[1] !== "number") return undefined;
  const rules = (data as { rules?: Array<{ name?: unknown }> })?.rules;
  const name = rules?.[path[1]]?.name;
  const rest = path
    .slice(2)
    .map((part) => `.${String(part)}`)
    .join("");
  return `rules[${path[1]}]${typeof name === "string" ? ` "${name}"` : ""}${rest}`;
}

/**
 * Parses and compiles policy YAML text; the version is a hash of the text. Text without any
 * YAML value (0 bytes, whitespace, only comments) is refused rather than read as "no rules".
 */
export function compilePolicyText(text: string, options: CompileOptions): Policy {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new PolicyError(`policy is not valid YAML: ${(error as Error).message}`);
  }
  // An empty file is far more often a truncated write than an intent; an empty policy says so.
  if (data === null || data === undefined) {
    throw new PolicyError(
      "policy file is empty (or only comments), which is how a truncated write looks: " +
        "write `rules: []` for a policy without rules",
    );
  }
  const version = new Bun.CryptoHasher("sha256").update(text).digest("hex").slice(0, 12);
  return compilePolicy(data, version, options);
}
