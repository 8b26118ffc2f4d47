/**
 * Bearer JWT identity for API clients (BearerVerifier of src/ports.ts), with jose.
 *
 * - The issuer is chosen by the token's unverified `iss`; a token from an issuer the config does
 *   not list is refused without touching any key.
 * - Per issuer: audience, allowed algorithms, keys (JWKS URL with cache, cooldown and rotation, or
 *   static JWK/PEM keys), clock tolerance = jwt.clock_skew. `exp` and `sub` are required.
 * - Claims → StatedClaims: groups from the issuer's groups_claim (array, or a space/comma separated
 *   string; a dotted name reaches into objects, e.g. "realm_access.roles"), acr, amr, auth_time.
 *   Then the issuer's trust settings (src/core/token-trust.ts) decide which user the token names
 *   and which groups, acr and amr are believed; a token they refuse is invalid.
 * - Speed: a verified token's claims are cached under the token's SHA-256 until
 *   min(exp, now + jwt.jwks_cache), in a bounded map. Only the cryptographic verification is
 *   cached: /auth still reads the user's status and groups live from the store on every request.
 * - verify() resolves undefined for an invalid token and rejects only when verification could not
 *   be attempted (JWKS unreachable and no key known): /auth then answers 503 (fail closed).
 */
import { createHash } from "node:crypto";
import { decodeJwt, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { Config } from "../config/load.ts";
import type { TokenClaims } from "../core/identity.ts";
import { type IssuerTrust, type StatedClaims, trustToken } from "../core/token-trust.ts";
import type { BearerVerifier } from "../ports.ts";
import { createKeyResolver, isInvalidTokenError, verifyJwt } from "./key-source.ts";

type JwtConfig = Config["jwt"];
type IssuerConfig = JwtConfig["issuers"][number];

export interface BearerVerifierOptions {
  /** Most verified tokens kept in the cache (oldest evicted first). */
  cacheSize?: number;
  /** Told about tokens refused, with a short reason (never the token). */
  onReject?: (reason: string, issuer: string | undefined) => void;
}

interface Issuer {
  config: IssuerConfig;
  trust: IssuerTrust;
  getKey: JWTVerifyGetKey;
}

interface CacheEntry {
  claims: TokenClaims;
  until: number;
}

const DEFAULT_CACHE_SIZE = 10_000;

/** Reads a claim by name, or by a dotted path into nested objects when no top-level claim has the name. */
function readClaim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** A claim as a list of strings: an array of strings, or a space/comma separated string. */
export function stringList(value: unknown): string[] {
  if (Array.isArray(value))
    return value.filter((item): item is string => typeof item === "string" && item !== "");
  if (typeof value === "string") return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

/** Reads the claims the identity layer uses from a verified payload, as the token states them. */
export function toTokenClaims(payload: JWTPayload, groupsClaim: string): StatedClaims {
  const authTime = payload.auth_time;
  return {
    sub: payload.sub as string,
    groups: stringList(readClaim(payload, groupsClaim)),
    acr: typeof payload.acr === "string" ? payload.acr : "",
    amr: stringList(payload.amr),
    authAt: typeof authTime === "number" && Number.isFinite(authTime) && authTime > 0 ? authTime * 1000 : 0,
  };
}

/** An issuer's trust settings from its config entry. */
export function issuerTrust(config: IssuerConfig, clockSkewMs: number): IssuerTrust {
  return {
    id: config.id,
    subjects: config.subjects,
    allowedGroups: new Set(config.allowed_groups),
    acrValues: new Set(config.acr_values),
    amrValues: new Set(config.amr_values),
    clockSkewMs,
  };
}

export function createBearerVerifier(jwt: JwtConfig, options: BearerVerifierOptions = {}): BearerVerifier {
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const reject = options.onReject ?? (() => {});
  const issuers = new Map<string, Issuer>();
  for (const config of jwt.issuers) {
    issuers.set(config.issuer, {
      config,
      trust: issuerTrust(config, jwt.clock_skew),
      getKey: createKeyResolver(config.keys, {
        cacheMaxAgeMs: jwt.jwks_cache,
        cooldownMs: jwt.jwks_cooldown,
      }),
    });
  }
  const cache = new Map<string, CacheEntry>();

  function remember(key: string, entry: CacheEntry, now: number) {
    if (cache.size >= cacheSize) {
      // Evict expired entries first; if none, the oldest inserted (Map keeps insertion order).
      for (const [k, v] of cache) if (v.until <= now) cache.delete(k);
      if (cache.size >= cacheSize) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
    }
    cache.set(key, entry);
  }

  return {
    async verify(token: string, now: number): Promise<TokenClaims | undefined> {
      const cacheKey = createHash("sha256").update(token).digest("base64url");
      const hit = cache.get(cacheKey);
      if (hit) {
        if (hit.until > now) return hit.claims;
        cache.delete(cacheKey);
      }

      let unverified: JWTPayload;
      try {
        unverified = decodeJwt(token);
      } catch {
        reject("malformed", undefined);
        return undefined;
      }
      const issuer = typeof unverified.iss === "string" ? issuers.get(unverified.iss) : undefined;
      if (!issuer) {
        reject("unknown_issuer", typeof unverified.iss === "string" ? unverified.iss : undefined);
        return undefined;
      }
      const { config } = issuer;
      let payload: JWTPayload;
      try {
        ({ payload } = await verifyJwt(token, issuer.getKey, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: config.algorithms,
          clockTolerance: Math.floor(jwt.clock_skew / 1000),
          currentDate: new Date(now),
          requiredClaims: ["exp", "sub"],
        }));
      } catch (error) {
        if (isInvalidTokenError(error)) {
          reject((error as { code?: string }).code ?? "invalid", config.issuer);
          return undefined;
        }
        throw error; // keys unavailable: the caller fails closed with 503
      }
      if (typeof payload.sub !== "string" || payload.sub === "") {
        reject("no_sub", config.issuer);
        return undefined;
      }
      const trusted = trustToken(toTokenClaims(payload, config.groups_claim), issuer.trust, now);
      if (!trusted.ok) {
        reject(trusted.reason, config.issuer);
        return undefined;
      }
      const { claims } = trusted;
      const until = Math.min((payload.exp as number) * 1000, now + jwt.jwks_cache);
      if (until > now) remember(cacheKey, { claims, until }, now);
      return claims;
    },
  };
}
