import { describe, expect, test } from "bun:test";
import { configSchema } from "../../src/config/schema.ts";
import {
  type EvaluationInput,
  evaluate,
  evaluationSettings,
  type StoredState,
} from "../../src/core/evaluate.ts";
import type { RequestFacts, Session, User } from "../../src/core/types.ts";
import { compilePolicyText } from "../../src/policy/compile.ts";

const NOW = 1_800_000_000_000;
const MIN = 60_000;
const settings = evaluationSettings(configSchema.parse({}));
const policy = compilePolicyText(
  `
rules:
  - { name: open, paths: ["/open"], action: bypass }
  - { name: admin, paths: ["/admin"], action: stepup, max_age: 5m }
  - { name: app, paths: ["/app"], action: authenticated }
`,
  { defaultMaxAgeMs: 5 * MIN },
);
const rule = (name: string) => policy.rules.find((r) => r.name === name)!;

const facts: RequestFacts = {
  method: "GET",
  proto: "https",
  host: "app.example.com",
  port: undefined,
  path: "/app",
  query: "",
  clientIp: "10.0.0.7",
  clientKey: "10.0.0.7",
  userAgent: "test",
  headerBytes: 200,
  isBrowser: true,
  isPreflight: false,
  sessionToken: "token",
  bearerToken: undefined,
  originalUrl: "https://app.example.com/app",
};
const user: User = { id: "alice", displayName: "alice", status: "active", groups: [], createdAt: NOW };
const session: Session = {
  id: "s1",
  userId: "alice",
  acr: "phr",
  amr: ["hwk", "user"],
  authAt: NOW - MIN,
  stepUpAt: 0,
  ip: "10.0.0.7",
  country: "",
  uaHash: "ua",
  lastLat: Number.NaN,
  lastLon: Number.NaN,
  lastLocatedAt: 0,
  lastSeenAt: NOW - MIN,
  createdAt: NOW - MIN,
};
const state = (over: Partial<StoredState> = {}): StoredState => ({
  session,
  user,
  rate: { session: 1, user: 1, ip: 1 },
  ipReputation: 0,
  ...over,
});
const input = (over: Partial<EvaluationInput>): EvaluationInput => ({
  facts,
  options: { stepUpMaxAgeSec: undefined, groups: [] },
  policy,
  rule: rule("app"),
  lists: [],
  now: NOW,
  credential: "session",
  claims: undefined,
  state: state(),
  location: undefined,
  userAgentHash: "ua",
  ...over,
});

describe("evaluate", () => {
  test("a live session on an authenticated rule: known identity, risk assessed, allow", () => {
    const result = evaluate(input({}), settings);
    expect(result.identity.kind).toBe("known");
    expect(result.riskAssessed).toBe(true);
    expect(result.decision).toMatchObject({ kind: "allow", rule: "app", reasons: ["authenticated"] });
  });

  test("a bypass rule answers without the store: no identity, no risk", () => {
    const result = evaluate(input({ rule: rule("open"), state: undefined }), settings);
    expect(result.riskAssessed).toBe(false);
    expect(result.identity).toEqual({ kind: "anonymous", reason: "no_credentials" });
    expect(result.decision).toMatchObject({ kind: "allow", reasons: ["bypass"] });
  });

  test("the address's options make a bypass rule read the store", () => {
    const options = { stepUpMaxAgeSec: 60, groups: [] };
    const result = evaluate(input({ rule: rule("open"), options }), settings);
    expect(result.riskAssessed).toBe(true);
    expect(result.decision).toMatchObject({ kind: "stepup", reasons: ["stepup_required"] });
  });

  test("a bearer token that did not verify is anonymous without the store", () => {
    const result = evaluate(input({ credential: "token", claims: undefined, state: undefined }), settings);
    expect(result.decision).toMatchObject({ kind: "login", reasons: ["token_invalid"] });
  });

  test("an idle session signs in again; a changed user agent counts in the risk", () => {
    const idle = evaluate(input({ now: NOW + settings.timeouts.idleMs }), settings);
    expect(idle.decision).toMatchObject({ kind: "login", reasons: ["session_idle_timeout"] });
    const changed = evaluate(input({ userAgentHash: "another" }), settings);
    expect(changed.risk.reasons.map((reason) => reason.signal)).toContain("user_agent");
  });

  test("no cookie and no token: anonymous, asked to sign in", () => {
    const result = evaluate(
      input({ credential: "none", state: state({ session: undefined, user: undefined }) }),
      settings,
    );
    expect(result.decision).toMatchObject({ kind: "login", reasons: ["no_credentials"] });
  });

  test("a rule that needs the store's state refuses to decide without it", () => {
    expect(() => evaluate(input({ state: undefined }), settings)).toThrow(/needs the store's state/);
  });
});
