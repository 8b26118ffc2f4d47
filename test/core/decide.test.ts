import { describe, expect, test } from "bun:test";
import { type DecideInput, decide, effectiveAction } from "../../src/core/decide.ts";
import type { IdentityState } from "../../src/core/identity.ts";
import { type Identity, NO_RISK, type RiskAssessment, type Session } from "../../src/core/types.ts";
import { compilePolicyText } from "../../src/policy/compile.ts";

const NOW = 1_800_000_000_000;
const MIN = 60_000;
const policy = compilePolicyText(
  `
rules:
  - { name: open, paths: ["/open"], action: bypass }
  - { name: closed, paths: ["/closed"], action: deny }
  - { name: admin, paths: ["/admin"], groups: [admins], action: stepup, max_age: 5m }
  - { name: pay, paths: ["/pay"], action: stepup, max_age: 0 }
  - { name: alice-only, paths: ["/alice"], users: [alice], action: authenticated }
  - { name: app, paths: ["/app"], action: authenticated }
`,
  { defaultMaxAgeMs: 5 * MIN },
);
const rule = (name: string) => policy.rules.find((r) => r.name === name)!;

const identity = (over: Partial<Identity> = {}): Identity => ({
  userId: "alice",
  groups: ["staff"],
  acr: "phr",
  amr: ["hwk", "user"],
  authAt: NOW - 60 * MIN,
  stepUpAt: 0,
  source: "session",
  sessionId: "s1",
  ...over,
});
const session = { ip: "203.0.113.7" } as Session;
const known = (over: Partial<Identity> = {}): IdentityState => ({
  kind: "known",
  identity: identity(over),
  session,
});
const anonymous: IdentityState = { kind: "anonymous", reason: "no_credentials" };
const suspended: IdentityState = { kind: "suspended", identity: identity() };
const risky = (score: number, over: Partial<RiskAssessment> = {}): RiskAssessment => ({
  ...NO_RISK,
  score,
  reasons: score > 0 ? [{ signal: "geo_country_mismatch", points: score, detail: "" }] : [],
  ...over,
});

const input = (name: string, over: Partial<DecideInput> = {}): DecideInput => ({
  now: NOW,
  rule: rule(name),
  options: { stepUpMaxAgeSec: undefined, groups: [] },
  isPreflight: false,
  corsPreflight: "allow",
  clientIp: "203.0.113.7",
  identity: known(),
  risk: NO_RISK,
  stepUp: { acr: "phr", immediateGraceMs: 30_000, riskMaxAgeMs: 5 * MIN },
  ...over,
});

const outcome = (i: DecideInput) => {
  const d = decide(i);
  return `${d.kind}:${d.reasons[0]}`;
};

describe("decision matrix: action × identity × freshness", () => {
  test.each([
    // bypass and deny do not care who asks
    ["open", anonymous, "allow:bypass"],
    ["open", suspended, "allow:bypass"],
    ["closed", known(), "deny:rule_denied"],
    // authenticated
    ["app", anonymous, "login:no_credentials"],
    ["app", { kind: "anonymous", reason: "session_idle_timeout" }, "login:session_idle_timeout"],
    ["app", suspended, "deny:user_suspended"],
    ["app", known(), "allow:authenticated"],
    ["alice-only", known({ userId: "bob" }), "deny:user_not_allowed"],
    ["alice-only", known(), "allow:authenticated"],
    // stepup, max_age 5m, groups admins
    ["admin", anonymous, "login:no_credentials"],
    ["admin", known(), "deny:group_required"],
    ["admin", known({ groups: ["admins"] }), "stepup:stepup_required"],
    ["admin", known({ groups: ["admins"], stepUpAt: NOW - 6 * MIN }), "stepup:stepup_stale"],
    ["admin", known({ groups: ["admins"], stepUpAt: NOW - 4 * MIN }), "allow:stepup_fresh"],
    ["admin", known({ groups: ["admins"], stepUpAt: NOW - 4 * MIN, acr: "pwd" }), "stepup:stepup_stale"],
    ["admin", suspended, "deny:user_suspended"],
    // stepup, max_age 0: only the grace window after the ceremony passes
    ["pay", known({ stepUpAt: NOW - 10_000 }), "allow:stepup_fresh"],
    ["pay", known({ stepUpAt: NOW - 31_000 }), "stepup:stepup_stale"],
  ] as Array<[string, IdentityState, string]>)("%s × %o → %s", (name, state, expected) => {
    expect(outcome(input(name, { identity: state }))).toBe(expected);
  });
});

describe("risk turns into step-up, deny or 429", () => {
  test("low risk passes untouched", () =>
    expect(outcome(input("app", { risk: risky(39) }))).toBe("allow:authenticated"));
  test("risk at stepup_at asks for a step-up", () => {
    const d = decide(input("app", { risk: risky(40) }));
    expect(d.kind).toBe("stepup");
    expect(d.reasons).toEqual(["risk_stepup", "geo_country_mismatch"]);
  });
  test("a recent step-up from the same address answers the risk", () => {
    expect(outcome(input("app", { risk: risky(50), identity: known({ stepUpAt: NOW - MIN }) }))).toBe(
      "allow:authenticated",
    );
  });
  test("a recent step-up from another address does not", () => {
    expect(
      outcome(
        input("app", { risk: risky(50), clientIp: "198.51.100.9", identity: known({ stepUpAt: NOW - MIN }) }),
      ),
    ).toBe("stepup:risk_stepup");
  });
  test("risk at deny_at denies", () =>
    expect(outcome(input("app", { risk: risky(80) }))).toBe("deny:risk_too_high"));
  test("a blocklisted address is denied even before sign-in", () => {
    const risk = risky(0, { block: { signal: "ip_list:tor", detail: "tor exit" } });
    expect(outcome(input("app", { risk, identity: anonymous }))).toBe("deny:ip_blocked");
  });
  test("a hard rate limit answers 429 with Retry-After", () => {
    const d = decide(input("app", { risk: risky(0, { rateLimitedForSec: 17 }) }));
    expect(d).toMatchObject({ kind: "rate_limited", retryAfterSec: 17 });
  });
  test("bypass rules never see risk", () => {
    expect(outcome(input("open", { risk: risky(100, { block: { signal: "x", detail: "" } }) }))).toBe(
      "allow:bypass",
    );
  });
});

describe("address options tighten, never loosen", () => {
  test("?stepup=60 on an authenticated rule demands a step-up no older than 60 s", () => {
    const options = { stepUpMaxAgeSec: 60, groups: [] };
    expect(effectiveAction(rule("app"), options)).toEqual({ action: "stepup", maxAgeMs: 60_000 });
    expect(outcome(input("app", { options, identity: known({ stepUpAt: NOW - 2 * MIN }) }))).toBe(
      "stepup:stepup_stale",
    );
    expect(outcome(input("app", { options, identity: known({ stepUpAt: NOW - 30_000 }) }))).toBe(
      "allow:stepup_fresh",
    );
  });
  test("?stepup=600 cannot relax a 5 minute rule", () => {
    expect(effectiveAction(rule("admin"), { stepUpMaxAgeSec: 600, groups: [] }).maxAgeMs).toBe(5 * MIN);
  });
  test("?group=ops requires every listed group", () => {
    const options = { stepUpMaxAgeSec: undefined, groups: ["ops", "staff"] };
    expect(outcome(input("app", { options }))).toBe("deny:group_required");
    expect(outcome(input("app", { options, identity: known({ groups: ["ops", "staff"] }) }))).toBe(
      "allow:authenticated",
    );
  });
  test("options turn a bypass rule into an authenticated one", () => {
    expect(
      outcome(
        input("open", { options: { stepUpMaxAgeSec: undefined, groups: ["ops"] }, identity: anonymous }),
      ),
    ).toBe("login:no_credentials");
  });
  test("a deny rule stays denied", () => {
    expect(effectiveAction(rule("closed"), { stepUpMaxAgeSec: 5, groups: ["x"] }).action).toBe("deny");
  });
});

describe("CORS preflight", () => {
  test("allowed without credentials when the policy says so", () => {
    expect(outcome(input("app", { isPreflight: true, identity: anonymous }))).toBe("allow:cors_preflight");
  });
  test("authenticated when the policy says so", () => {
    expect(
      outcome(input("app", { isPreflight: true, identity: anonymous, corsPreflight: "authenticate" })),
    ).toBe("login:no_credentials");
  });
  test("never through a deny rule", () => {
    expect(outcome(input("closed", { isPreflight: true }))).toBe("deny:rule_denied");
  });
});
