/**
 * Verification keys for JWTs from one configured party (a bearer-token issuer or a Shared Signals
 * transmitter): a JWKS URL (fetched by jose, cached, refetched when an unknown kid shows up = key
 * rotation), static keys (JWKs or SPKI PEM), or both. Also the one place that tells "this token is
 * invalid" apart from "verification could not be attempted" (JWKS unreachable and no usable key).
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from "jose";
import { toPublicJwk } from "../config/static-key.ts";

export interface KeySourceConfig {
  jwks_url?: string | undefined;
  /** JWKs (objects) or PEM (SPKI) strings. */
  keys?: Array<Record<string, unknown> | string> | undefined;
}

export interface RemoteJwksSettings {
  /** How long a fetched JWKS is used before it is refetched, ms. */
  cacheMaxAgeMs: number;
  /** Minimum time between refetches caused by an unknown kid, ms. */
  cooldownMs: number;
  /** Fetch timeout, ms. */
  timeoutMs?: number;
}

/** Verification could not be attempted (e.g. JWKS unreachable with no usable key): not the token's fault. */
export class KeysUnavailableError extends Error {
  override name = "KeysUnavailableError";
}

function staticGetKey(keys: Array<Record<string, unknown> | string>): JWTVerifyGetKey {
  const jwks = keys.map((key) => toPublicJwk(key) as JWK);
  const all = createLocalJWKSet({ keys: jwks } as JSONWebKeySet);
  const kidless = jwks.filter((jwk) => jwk.kid === undefined);
  const anyKid = kidless.length > 0 ? createLocalJWKSet({ keys: kidless } as JSONWebKeySet) : undefined;
  return async (header, token) => {
    // A token naming a kid no static key has may still be signed by a key configured without one.
    const named = header.kid !== undefined && jwks.some((jwk) => jwk.kid === header.kid);
    if (named || !anyKid) return all(header, token);
    return anyKid({ ...header, kid: undefined }, token);
  };
}

/** A fetch failure, timeout or unusable JWKS document, as opposed to a token that matches no key. */
function isFetchFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  if (!(error instanceof errors.JOSEError)) return true; // network errors (TypeError etc.)
  return error.code === "ERR_JOSE_GENERIC"; // "Expected 200 OK from the JSON Web Key Set HTTP response"
}

function remoteGetKey(url: string, settings: RemoteJwksSettings): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(url), {
    cacheMaxAge: settings.cacheMaxAgeMs,
    cooldownDuration: settings.cooldownMs,
    timeoutDuration: settings.timeoutMs ?? 5_000,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (!isFetchFailure(error)) throw error;
      // The JWKS endpoint is down: keep verifying with the last keys it published, if any
      // (an IdP blip must not take every API client down); with none, verification cannot happen.
      const last = remote.jwks();
      if (last && last.keys.length > 0) return createLocalJWKSet(last)(header, token);
      throw new KeysUnavailableError(`JWKS ${url} unreachable: ${(error as Error).message}`);
    }
  };
}

/** The key resolver for one party. Static keys are tried first, then the JWKS URL. */
export function createKeyResolver(source: KeySourceConfig, remote: RemoteJwksSettings): JWTVerifyGetKey {
  const local = source.keys && source.keys.length > 0 ? staticGetKey(source.keys) : undefined;
  const fetched = source.jwks_url ? remoteGetKey(source.jwks_url, remote) : undefined;
  if (local && fetched) {
    return async (header, token) => {
      try {
        return await local(header, token);
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey) return fetched(header, token);
        throw error;
      }
    };
  }
  const only = local ?? fetched;
  if (!only) throw new Error("key source needs jwks_url or keys");
  return only;
}

/**
 * jwtVerify with a key resolver, also when several keys match (no kid, two keys of one type):
 * each candidate is tried in turn. Throws jose's errors for invalid tokens, KeysUnavailableError
 * when the keys could not be obtained.
 */
export async function verifyJwt(
  token: string,
  getKey: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<{ payload: JWTPayload; protectedHeader: Record<string, unknown> }> {
  try {
    return await jwtVerify(token, getKey, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    let last: unknown = new errors.JWSSignatureVerificationFailed();
    for await (const key of error as unknown as AsyncIterable<CryptoKey>) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        last = inner;
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw last;
  }
}

/** True for errors that mean "this token is not valid" (as opposed to "could not verify"). */
export function isInvalidTokenError(error: unknown): boolean {
  return (
    error instanceof errors.JWTClaimValidationFailed ||
    error instanceof errors.JWTExpired ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKInvalid ||
    error instanceof errors.JWKSMultipleMatchingKeys
  );
}
