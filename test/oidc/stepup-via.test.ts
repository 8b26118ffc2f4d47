/**
 * Which step-ups satisfy a stepup rule: a passkey's acr (stepup.acr), an IdP's step-up acr (any
 * provider's stepup_acr_values), or only one of them when the rule says `via`. Pure decide().
 */
import { describe, expect, test } from "bun:test";
import { type DecideInput, decide } from "../../src/core/decide.ts";
import { type Identity, NO_RISK, type Session } from "../../src/core/types.ts";
import { compilePolicyText } from "../../src/policy/compile.ts";

const NOW = 1_800_000_000_000;
const MIN = 60_000;
const policy = compilePolicyText(
  `
rules:
  - { name: either, paths: ["/either"], action: stepup, max_age: 5m }
  - { name: passkey-only, paths: ["/pk"], action: stepup, max_age: 5m, via: [passkey] }
  - { name: idp-only, paths: ["/idp"], action: stepup, max_age: 5m, via: [idp] }
  - { name: both-listed, paths: ["/both"], action: stepup, max_age: 5m, via: [passkey, idp] }
`,
  { defaultMaxAgeMs: 5 * MIN },
);

const input = (rule: string, acr: string, stepUpAgoMs: number | undefined): DecideInput => {
  const identity: Identity = {
    userId: "alice",
    groups: [],
    acr,
    amr: [],
    authAt: NOW - 60 * MIN,
    stepUpAt: stepUpAgoMs === undefined ? 0 : NOW - stepUpAgoMs,
    source: "session",
    sessionId: "s1",
  };
  return {
    now: NOW,
    rule: policy.rules.find((r) => r.name === rule)!,
    options: { stepUpMaxAgeSec: undefined, groups: [] },
    isPreflight: false,
    corsPreflight: "allow",
    clientIp: "203.0.113.7",
    identity: { kind: "known", identity, session: { ip: "203.0.113.7" } as Session },
    risk: NO_RISK,
    stepUp: { acr: "phr", immediateGraceMs: 30_000, riskMaxAgeMs: 5 * MIN, idpAcrs: ["mfa"] },
  };
};

describe("stepup rules and the kind of step-up", () => {
  test.each([
    ["either", "phr", MIN, "allow"],
    ["either", "mfa", MIN, "allow"],
    ["either", "mfa", 10 * MIN, "stepup"], // too old
    ["either", "idp", MIN, "stepup"], // a plain IdP sign-in acr is no step-up
    ["either", "mfa", undefined, "stepup"], // an IdP sign-in at "mfa" without a step-up
    ["passkey-only", "phr", MIN, "allow"],
    ["passkey-only", "mfa", MIN, "stepup"],
    ["idp-only", "mfa", MIN, "allow"],
    ["idp-only", "phr", MIN, "stepup"],
    ["both-listed", "phr", MIN, "allow"],
    ["both-listed", "mfa", MIN, "allow"],
  ])("%s with acr %s stepped up %p ms ago → %s", (rule, acr, ago, kind) => {
    expect(decide(input(rule, acr, ago as number | undefined)).kind).toBe(kind as "allow" | "stepup");
  });

  test("an IdP-only rule's challenge names the IdP acr values and tells the portal which check", () => {
    const d = decide(input("idp-only", "phr", MIN));
    expect(d.kind === "stepup" && [d.acrValues, d.via]).toEqual(["mfa", "idp"]);
    const p = decide(input("passkey-only", "mfa", MIN));
    expect(p.kind === "stepup" && [p.acrValues, p.via]).toEqual(["phr", "passkey"]);
    const e = decide(input("either", "idp", MIN));
    expect(e.kind === "stepup" && [e.acrValues, e.via]).toEqual(["phr", undefined]);
  });

  test("without IdP step-up acrs configured, an acr named like one is no step-up", () => {
    const i = input("either", "mfa", MIN);
    expect(decide({ ...i, stepUp: { ...i.stepUp, idpAcrs: undefined } }).kind).toBe("stepup");
  });

  test("via on a non-stepup rule is refused when the policy loads", () => {
    expect(() =>
      compilePolicyText(`rules:\n  - { name: x, action: authenticated, via: [idp] }\n`, {
        defaultMaxAgeMs: MIN,
      }),
    ).toThrow("via: only applies to action stepup");
  });
});
