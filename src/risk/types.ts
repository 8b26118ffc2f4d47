/** Inputs of the risk engine. Pure data: the caller (the /auth handler) gathers them. */
import type { FileConfig } from "../config/schema.ts";
import type { RateCounts, Session } from "../core/types.ts";

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
