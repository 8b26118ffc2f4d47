/**
 * OIDC Back-Channel Logout 1.0, §2.6: a logout token is a JWT signed by the IdP (its JWKS), with
 * iss, aud (our client id), iat, jti, the back-channel logout event, sub and/or sid, and no nonce.
 * A jti is accepted once (replay guard shared by every replica).
 */
import { errors, jwtVerify } from "jose";
import type { ReplayGuard } from "../ports.ts";
import type { OidcProvider } from "./providers.ts";

export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

export interface LogoutRequest {
  subject: string | undefined;
  sid: string | undefined;
  /** The replay guard's key for this token's jti: released if ending the sessions fails. */
  replayKey: string;
}

export type LogoutTokenResult =
  | { ok: true; value: LogoutRequest }
  | { ok: false; reason: string; retryable?: boolean };

export interface LogoutTokenSettings {
  clockSkewMs: number;
  /** How old (iat) a logout token may be; also how long its jti is remembered. */
  maxAgeMs: number;
}

export async function verifyLogoutToken(
  token: string,
  provider: OidcProvider,
  replay: ReplayGuard,
  settings: LogoutTokenSettings,
  now: number,
): Promise<LogoutTokenResult> {
  const keys = provider.keys();
  if (keys === undefined) return { ok: false, reason: "provider_unavailable", retryable: true };
  let payload: Record<string, unknown>;
  try {
    const verified = await jwtVerify(token, keys, {
      issuer: provider.settings.issuer,
      audience: provider.settings.client_id,
      algorithms: provider.algorithms(),
      clockTolerance: Math.floor(settings.clockSkewMs / 1000),
      currentDate: new Date(now),
      maxTokenAge: Math.floor(settings.maxAgeMs / 1000),
      requiredClaims: ["iat", "jti"],
    });
    payload = verified.payload as Record<string, unknown>;
  } catch (error) {
    if (error instanceof errors.JWKSTimeout)
      return { ok: false, reason: "jwks_unreachable", retryable: true };
    return { ok: false, reason: (error as { code?: string }).code ?? "invalid_token" };
  }
  const events = payload.events;
  if (
    typeof events !== "object" ||
    events === null ||
    typeof (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] !== "object"
  ) {
    return { ok: false, reason: "no_logout_event" };
  }
  if ("nonce" in payload) return { ok: false, reason: "nonce_present" };
  const subject = typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : undefined;
  const sid = typeof payload.sid === "string" && payload.sid !== "" ? payload.sid : undefined;
  if (subject === undefined && sid === undefined) return { ok: false, reason: "no_sub_or_sid" };
  const jti = String(payload.jti).slice(0, 256);
  const replayKey = `oidc-logout:${provider.settings.id}:${jti}`;
  if (!(await replay.claim(replayKey, settings.maxAgeMs + settings.clockSkewMs))) {
    return { ok: false, reason: "replayed_jti" };
  }
  return { ok: true, value: { subject, sid, replayKey } };
}
