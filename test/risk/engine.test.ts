import { describe, expect, test } from "bun:test";
import { assessRisk } from "../../src/risk/engine.ts";
import { context, defaultRiskConfig, HOUR, input, list, NOW, SYDNEY, session } from "./fixtures.ts";

describe("assessRisk", () => {
  test("a request like the session's last one carries no risk", () => {
    expect(assessRisk(input(), context())).toEqual({
      score: 0,
      reasons: [],
      block: undefined,
      rateLimitedForSec: undefined,
    });
  });

  test("sums the signals' points and keeps each reason", () => {
    const config = defaultRiskConfig();
    config.geo.country_mismatch_points = 30;
    config.geo.impossible_travel_points = 50;
    const risk = assessRisk(
      input({
        clientIp: "185.220.101.1",
        ipReputation: 20,
        location: SYDNEY,
        session: session({ lastLocatedAt: NOW - 2 * HOUR, lastSeenAt: NOW - 2 * HOUR }),
        userAgentHash: "someone-else",
      }),
      context({ config, lists: [list("tor", ["185.220.101.0/24"], "score", 10)] }),
    );
    expect(risk.reasons.map((r) => [r.signal, r.points])).toEqual([
      ["ip_list", 10],
      ["ip_reputation", 20],
      ["geo_country", 30],
      ["impossible_travel", 50],
      ["user_agent", 20],
    ]);
    expect(risk.score).toBe(100); // 130 clamped
    expect(risk.block).toBeUndefined();
  });

  test("a moderate score stays below 100", () => {
    const risk = assessRisk(input({ userAgentHash: "other", ipReputation: 15 }), context());
    expect(risk.score).toBe(35);
  });

  test("a deny list blocks whatever the score", () => {
    const risk = assessRisk(
      input({ clientIp: "1.10.16.5" }),
      context({ lists: [list("drop", ["1.10.16.0/20"], "deny")] }),
    );
    expect(risk.block).toEqual({ signal: "ip_list", detail: 'client address is on deny list "drop"' });
    expect(risk.score).toBe(0);
  });

  test("a hard rate limit asks for 429 with the longest wait", () => {
    const risk = assessRisk(input({ rate: { session: 1300, user: 1300, ip: 4800 } }), context());
    expect(risk.rateLimitedForSec).toBe(30);
    expect(risk.reasons.map((r) => r.signal)).toEqual(["rate"]);
  });

  test("an anonymous request (no session) is judged on address and rate only", () => {
    const risk = assessRisk(
      input({ session: undefined, location: SYDNEY, userAgentHash: "x", ipReputation: 100 }),
      context(),
    );
    expect(risk.reasons.map((r) => [r.signal, r.points])).toEqual([["ip_reputation", 60]]);
  });

  test("is pure: same input, same answer, input untouched", () => {
    const request = input({ userAgentHash: "other", location: SYDNEY });
    const copy = structuredClone(request);
    const ctx = context();
    expect(assessRisk(request, ctx)).toEqual(assessRisk(request, ctx));
    expect(request).toEqual(copy);
  });

  test("all points configured to zero give a zero score", () => {
    const config = defaultRiskConfig();
    config.geo.country_mismatch_points = 0;
    config.geo.impossible_travel_points = 0;
    config.user_agent.change_points = 0;
    config.dynamic_ip.max_points = 0;
    const risk = assessRisk(
      input({ location: SYDNEY, userAgentHash: "other", ipReputation: 50 }),
      context({ config }),
    );
    expect(risk.score).toBe(0);
    expect(risk.reasons).toEqual([]);
  });
});
