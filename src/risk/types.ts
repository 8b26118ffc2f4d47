/** Inputs of the risk engine. Pure data: the caller (the /auth handler) gathers them. */
import type { FileConfig } from "../config/schema.ts";
import type { RateCounts, RiskAssessment, RiskReason, Session } from "../core/types.ts";

export interface GeoPoint {
  country: string;
  lat: number;
  lon: number;
}

/** One static reputation list, compiled for lookups independent of its size. */
export interface IpListMatcher {
  name: string;
  weight: number;
  action: "score" | "deny";
  /** true when the address (IPv4 or IPv6 text) is on the list. */
  has(ip: string): boolean;
}

export interface RiskInput {
  now: number;
  clientIp: string;
  /** geoip-lite's view of clientIp; undefined for private or unknown addresses (no evidence). */
  location: GeoPoint | undefined;
  /** The session before this request (baseline ip/country/uaHash, last seen location and time). */
  session: Session | undefined;
  /** Hash of this request's User-Agent, same function as the session's uaHash. */
  userAgentHash: string;
  rate: RateCounts;
  /** Dynamic reputation points from Redis. */
  ipReputation: number;
}

export interface RiskContext {
  config: FileConfig["risk"];
  lists: readonly IpListMatcher[];
}

/** Names of the signals, as they appear in reasons, X-Auth-Risk and `vigil_risk_signals_total{signal}`. */
export const RiskSignalName = {
  /** The client IP is on a static list (score or deny). */
  ipList: "ip_list",
  /** Dynamic reputation from recent failed step-ups and rate violations. */
  ipReputation: "ip_reputation",
  countryMismatch: "geo_country",
  impossibleTravel: "impossible_travel",
  rate: "rate",
  userAgent: "user_agent",
} as const;

/** What one signal found: points with reasons, and possibly an outright block or a rate limit. */
export interface SignalOutcome {
  reasons: RiskReason[];
  block?: NonNullable<RiskAssessment["block"]>;
  rateLimitedForSec?: number;
}

/** A pure signal: same inputs, same outcome. */
export type RiskSignal = (input: RiskInput, context: RiskContext) => SignalOutcome;

export const NO_EVIDENCE: Readonly<SignalOutcome> = Object.freeze({ reasons: [] });

/** Appends to a list created on first use: signals that find nothing allocate nothing. */
export function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}
