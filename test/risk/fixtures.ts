/** Shared inputs for the risk tests: defaults from the real config schema and a fixed clock. */
import { configSchema } from "../../src/config/schema.ts";
import type { Session } from "../../src/core/types.ts";
import { CidrSet } from "../../src/net/cidr-set.ts";
import type { IpListMatcher, RiskContext, RiskInput } from "../../src/risk/types.ts";

/** 2025-01-15T12:00:00Z */
export const NOW = Date.UTC(2025, 0, 15, 12);
export const HOUR = 3_600_000;

export const FRANKFURT = { country: "DE", lat: 50.1188, lon: 8.6843 };
export const BERLIN = { country: "DE", lat: 52.52, lon: 13.405 };
export const OFFENBACH = { country: "DE", lat: 50.0956, lon: 8.7761 }; // ~7 km from Frankfurt
export const SYDNEY = { country: "AU", lat: -33.8591, lon: 151.2002 };
export const BASEL = { country: "CH", lat: 47.5596, lon: 7.5886 }; // across a border, ~330 km

export const defaultRiskConfig = (): RiskContext["config"] => configSchema.parse({}).risk;

export function context(overrides: Partial<RiskContext> = {}): RiskContext {
  return { config: defaultRiskConfig(), lists: [], ...overrides };
}

export function list(
  name: string,
  entries: string[],
  action: "score" | "deny" = "score",
  weight = 50,
): IpListMatcher {
  const set = CidrSet.parse(entries);
  return { name, weight, action, has: (ip) => set.has(ip) };
}

export function session(overrides: Partial<Session> = {}): Session {
  return {
    id: "s1",
    userId: "alice",
    acr: "phr",
    amr: ["hwk"],
    authAt: NOW - 2 * HOUR,
    stepUpAt: 0,
    ip: "2a00:1450:4001::1",
    country: "DE",
    uaHash: "ua-baseline",
    lastLat: FRANKFURT.lat,
    lastLon: FRANKFURT.lon,
    lastLocatedAt: NOW - 60_000,
    lastSeenAt: NOW - 60_000,
    createdAt: NOW - 2 * HOUR,
    ...overrides,
  };
}

export function input(overrides: Partial<RiskInput> = {}): RiskInput {
  return {
    now: NOW,
    clientIp: "2a00:1450:4001::1",
    location: FRANKFURT,
    session: session(),
    userAgentHash: "ua-baseline",
    rate: { session: 1, user: 1, ip: 1 },
    ipReputation: 0,
    ...overrides,
  };
}
