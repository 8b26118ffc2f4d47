import { describe, expect, test } from "bun:test";
import { compilePolicyText, PolicyError } from "../../src/policy/compile.ts";
import { matchRule } from "../../src/policy/engine.ts";
import { SAMPLE_POLICY } from "../../src/policy/sample-policy.ts";

const OPTIONS = { defaultMaxAgeMs: 300_000 };

const POLICY = `
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: health, paths: ["/healthz"], action: bypass }
  - { name: admin, hosts: ["app.example.com"], paths: ["/admin/**"], groups: [admins], action: stepup, max_age: 5m }
  - { name: payments, paths: ["/api/payments/**"], methods: [POST], action: stepup, max_age: 0 }
  - { name: office-only, paths: ["/internal/**"], networks: ["10.0.0.0/8"], action: authenticated }
  - { name: internal-elsewhere, paths: ["/internal/**"], action: deny }
  - { name: app, hosts: ["*.example.com"], action: authenticated, risk: { stepup_at: 30, deny_at: 90 } }
default: deny
`;

const facts = (over: Partial<{ host: string; path: string; method: string; clientIp: string }> = {}) => ({
  host: "app.example.com",
  path: "/",
  method: "GET",
  clientIp: "203.0.113.7",
  ...over,
});

describe("policy compile and first match", () => {
  const policy = compilePolicyText(POLICY, OPTIONS);

  test.each([
    [{ path: "/healthz" }, "health"],
    [{ path: "/admin/users" }, "admin"],
    [{ host: "other.example.com", path: "/admin/users" }, "app"],
    [{ path: "/api/payments/1", method: "POST" }, "payments"],
    [{ path: "/api/payments/1", method: "GET" }, "app"],
    [{ path: "/internal/wiki", clientIp: "10.2.3.4" }, "office-only"],
    [{ path: "/internal/wiki", clientIp: "198.51.100.1" }, "internal-elsewhere"],
    [{ host: "example.org" }, "default"],
  ])("%o → %s", (over, expected) => expect(matchRule(policy, facts(over)).name).toBe(expected));

  test("rule attributes are compiled", () => {
    const admin = policy.rules.find((rule) => rule.name === "admin")!;
    expect(admin.maxAgeMs).toBe(300_000);
    expect(admin.groups).toEqual(["admins"]);
    expect(policy.rules.find((rule) => rule.name === "payments")!.maxAgeMs).toBe(0);
    expect(policy.rules.find((rule) => rule.name === "app")!.risk).toEqual({ stepupAt: 30, denyAt: 90 });
    expect(policy.fallback.action).toBe("deny");
    expect(policy.version).toMatch(/^[0-9a-f]{12}$/);
  });

  test("the version changes with the content", () => {
    expect(compilePolicyText(`${POLICY}\n# edit`, OPTIONS).version).not.toBe(policy.version);
  });

  test("the built-in sample policy compiles", () => {
    const sample = compilePolicyText(SAMPLE_POLICY, OPTIONS);
    expect(matchRule(sample, facts({ path: "/admin/x" })).name).toBe("admin");
  });
});

describe("broken policies are refused with the field named", () => {
  test.each([
    ["rules: [{ name: a, action: allow }]", /rules\[0\] "a"\.action/],
    ["rules: [{ name: a, action: stepup, max_age: soon }]", /max_age/],
    ["rules: [{ name: a, action: authenticated, max_age: 5m }]", /only applies to action stepup/],
    ['rules: [{ name: a, paths: ["admin"], action: deny }]', /rule "a": paths/],
    ['rules: [{ name: a, networks: ["10.0.0.0/99"], action: deny }]', /rule "a": networks/],
    ["rules: [{ name: a, action: deny }, { name: a, action: deny }]", /name used twice/],
    ["rules: [{ name: a, action: deny, colour: red }]", /colour|Unrecognized/i],
    ["risk: { stepup_at: 90, deny_at: 10 }", /stepup_at must not exceed deny_at/],
    ["rules: [ {", /not valid YAML/],
    ["default: bypass", /default/],
  ])("%s", (text, message) => {
    expect(() => compilePolicyText(text, OPTIONS)).toThrow(PolicyError);
    expect(() => compilePolicyText(text, OPTIONS)).toThrow(message);
  });
});
