/**
 * POST /oidc/<id>/backchannel-logout (OIDC Back-Channel Logout 1.0): the IdP, server to server,
 * says a user's IdP session ended. A token with a sid ends the Vigil sessions of that IdP
 * session; one with only a sub ends every session of the user that subject is linked to. The
 * sessions are deleted from the shared store, so the next /auth on any replica is not 200.
 */
import { verifyLogoutToken } from "../../oidc/logout-token.ts";
import type { OidcProvider } from "../../oidc/providers.ts";
import type { PortalContext, PortalDeps } from "../portal/context.ts";

const MAX_BODY_BYTES = 16 * 1024;
/** How old a logout token may be (its iat), and how long its jti is remembered. */
const LOGOUT_TOKEN_MAX_AGE_MS = 10 * 60_000;

const answer = (c: PortalContext, status: 200 | 400 | 413 | 415 | 503, error?: string) =>
  c.json(error === undefined ? {} : { error }, status, { "cache-control": "no-store" });

async function readLogoutToken(c: PortalContext): Promise<string | Response> {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    return answer(c, 415, "invalid_request");
  }
  if (Number(c.req.header("content-length") ?? 0) > MAX_BODY_BYTES) return answer(c, 413, "invalid_request");
  const reader = c.req.raw.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      return answer(c, 413, "invalid_request");
    }
    chunks.push(value);
  }
  const token = new URLSearchParams(Buffer.concat(chunks).toString("utf8")).get("logout_token");
  if (!token || token.length > MAX_BODY_BYTES) return answer(c, 400, "invalid_request");
  return token;
}

export async function backchannelLogout(
  deps: PortalDeps,
  c: PortalContext,
  provider: OidcProvider,
): Promise<Response> {
  const token = await readLogoutToken(c);
  if (token instanceof Response) return token;
  const { settings } = provider;
  const now = deps.clock();
  const verified = await verifyLogoutToken(
    token,
    provider,
    deps.stores.replay,
    { clockSkewMs: deps.config.oidc.clock_skew, maxAgeMs: LOGOUT_TOKEN_MAX_AGE_MS },
    now,
  );
  if (!verified.ok) {
    deps.logger.warn(
      { event: "oidc_logout_refused", provider: settings.id, reason: verified.reason },
      "logout token refused",
    );
    return verified.retryable ? answer(c, 503, "temporarily_unavailable") : answer(c, 400, "invalid_request");
  }
  const { subject, sid, replayKey } = verified.value;
  try {
    return await endSessions(deps, c, provider, subject, sid);
  } catch (error) {
    // Not ended, or not confirmed (503): the IdP's retry of this same token must not be a replay.
    await deps.stores.replay.release(replayKey).catch(() => {});
    throw error;
  }
}

async function endSessions(
  deps: PortalDeps,
  c: PortalContext,
  provider: OidcProvider,
  subject: string | undefined,
  sid: string | undefined,
): Promise<Response> {
  const { settings } = provider;
  const { federation, sessions } = deps.stores;
  const userId =
    (sid !== undefined ? await federation.userOfSid(settings.id, sid) : undefined) ??
    (subject !== undefined ? await federation.userOfSubject(settings.id, subject) : undefined);
  let ended = 0;
  if (userId !== undefined) {
    for (const session of await sessions.listByUser(userId)) {
      const fed = session.federation;
      // With a sid: only that IdP session's Vigil sessions. With only a sub: all of the user's.
      const matches =
        sid === undefined ||
        (fed !== undefined &&
          fed.provider === settings.id &&
          fed.sid === sid &&
          (subject === undefined || fed.subject === subject));
      if (matches && (await sessions.delete(session.id))) ended++;
    }
  }
  deps.metrics.sessionsRevoked.inc({ cause: "oidc_logout" }, ended);
  deps.logger.info(
    { event: "oidc_backchannel_logout", provider: settings.id, user: userId, sessions: ended },
    "sessions ended by the identity provider",
  );
  return answer(c, 200);
}
