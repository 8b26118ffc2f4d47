/**
 * Verification of a push-delivered Security Event Token (RFC 8417 SET, RFC 8935 push) against the
 * configured transmitters. Pure of HTTP: body + content type in, verified claims or an RFC 8935
 * error code out.
 */
import { decodeJwt, decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { Config } from "../../config/load.ts";
import { createKeyResolver, KeysUnavailableError, verifyJwt } from "../../identity/key-source.ts";

export type SetErrorCode =
  | "invalid_request"
  | "invalid_key"
  | "invalid_issuer"
  | "invalid_audience"
  | "authentication_failed"
  | "access_denied";

export type SetVerification =
  | { ok: true; payload: JWTPayload; issuer: string; events: Record<string, Record<string, unknown>> }
  | { ok: false; status: 400; err: SetErrorCode; description: string }
  | { ok: false; status: 503; err: "temporarily_unavailable"; description: string };

export const SET_CONTENT_TYPE = "application/secevent+jwt";
export const MAX_SET_BYTES = 64 * 1024;

type Transmitter = Config["events"]["transmitters"][number];

const fail = (err: SetErrorCode, description: string): SetVerification => ({
  ok: false,
  status: 400,
  err,
  description,
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** The media type without parameters, lower case. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

export function createSetVerifier(config: Pick<Config, "events" | "jwt">) {
  const transmitters = new Map<string, { config: Transmitter; getKey: JWTVerifyGetKey }>();
  for (const transmitter of config.events.transmitters) {
    transmitters.set(transmitter.issuer, {
      config: transmitter,
      getKey: createKeyResolver(transmitter.keys, {
        cacheMaxAgeMs: config.jwt.jwks_cache,
        cooldownMs: config.jwt.jwks_cooldown,
      }),
    });
  }

  return async function verifySet(
    body: string,
    contentType: string | undefined,
    now: number,
  ): Promise<SetVerification> {
    if (mediaType(contentType) !== SET_CONTENT_TYPE) {
      return fail("invalid_request", `Content-Type must be ${SET_CONTENT_TYPE}`);
    }
    const token = body.trim();
    if (token === "") return fail("invalid_request", "empty body");
    if (token.length > MAX_SET_BYTES) return fail("invalid_request", "SET too large");
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      return fail("invalid_request", "the body is not a signed JWT (JWS compact serialization)");
    }
    const typ = typeof header.typ === "string" ? header.typ.toLowerCase().replace(/^application\//, "") : "";
    if (typ !== "secevent+jwt") return fail("invalid_request", 'the JWT header typ must be "secevent+jwt"');
    const issuer = typeof unverified.iss === "string" ? unverified.iss : undefined;
    const transmitter = issuer !== undefined ? transmitters.get(issuer) : undefined;
    if (!issuer || !transmitter)
      return fail("invalid_issuer", "the SET issuer is not a configured transmitter");

    let payload: JWTPayload;
    try {
      ({ payload } = await verifyJwt(token, transmitter.getKey, {
        issuer,
        audience: transmitter.config.audience,
        algorithms: transmitter.config.algorithms,
        typ: "secevent+jwt",
        clockTolerance: Math.floor(config.jwt.clock_skew / 1000),
        currentDate: new Date(now),
        maxTokenAge: Math.floor(config.events.max_age / 1000),
        requiredClaims: ["iat", "jti"],
      }));
    } catch (error) {
      return verificationFailure(error);
    }
    if (typeof payload.jti !== "string" || payload.jti === "")
      return fail("invalid_request", "jti must be a string");
    const events = payload.events;
    if (!isObject(events) || Object.keys(events).length === 0) {
      return fail("invalid_request", "events must be an object with at least one event");
    }
    for (const [type, event] of Object.entries(events)) {
      if (!isObject(event)) return fail("invalid_request", `event ${type} must be an object`);
    }
    return { ok: true, payload, issuer, events: events as Record<string, Record<string, unknown>> };
  };
}

function verificationFailure(error: unknown): SetVerification {
  if (error instanceof KeysUnavailableError) {
    return {
      ok: false,
      status: 503,
      err: "temporarily_unavailable",
      description: "the transmitter's keys could not be fetched; retry later",
    };
  }
  if (error instanceof errors.JWTExpired) return fail("invalid_request", "the SET has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "aud":
        return fail("invalid_audience", "the SET audience is not this receiver");
      case "iss":
        return fail("invalid_issuer", "unexpected issuer");
      case "iat":
        return fail("invalid_request", "the SET is too old (iat) or issued in the future");
      default:
        return fail("invalid_request", `invalid claim ${error.claim}: ${error.message}`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return fail("authentication_failed", "the SET signature does not verify with the transmitter's keys");
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWKInvalid
  ) {
    return fail("invalid_key", "the SET is signed with a key or algorithm the transmitter does not publish");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return fail("invalid_request", "malformed SET");
  }
  return {
    ok: false,
    status: 503,
    err: "temporarily_unavailable",
    description: "the SET could not be verified now; retry later",
  };
}
