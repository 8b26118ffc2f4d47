/**
 * Step-up: re-verification of the signed-in user (user verification required, allowCredentials =
 * that user's passkeys only, and the asserted credential must be one of them). On success the
 * session is rotated with acr = stepup.acr, stepUpAt = now (what max_age is measured against), a
 * fresh baseline, and amr = this check's own RFC 8176 methods (hwk|swk, user, mfa). With the
 * passkey the user signed in with, amr stays as it was: RFC 8176 has no value for freshness.
 */
import type { Session } from "../../core/types.ts";
import { sessionCookie } from "../../session/cookie.ts";
import {
  assertionAmr,
  authenticationOptions,
  credentialUse,
  verifyAssertion,
} from "../../webauthn/authentication.ts";
import { newChallenge, storeChallenge, takeChallenge } from "../../webauthn/challenge.ts";
import type { AssertionBody } from "./body.ts";
import { type Client, jsonError, type Portal, type PortalContext, returnUrl } from "./context.ts";
import { admitStart, banned, challengeExpired, refuse, succeeded } from "./outcome.ts";

const noSession = (c: PortalContext) =>
  jsonError(c, 401, "no_session", "You are not signed in (or your session ended). Sign in first.");

export async function stepUpOptions(
  portal: Portal,
  c: PortalContext,
  client: Client,
  session: Session | undefined,
): Promise<Response> {
  const { deps } = portal;
  if (session === undefined) return noSession(c);
  await admitStart(portal, c, "stepup", { userId: session.userId, client }, deps.clock());
  const user = await deps.stores.users.get(session.userId);
  if (user === undefined || user.status !== "active") {
    return jsonError(c, 403, "account_inactive", "This account is suspended. Contact an administrator.");
  }
  const credentials = await deps.stores.credentials.listByUser(session.userId);
  if (credentials.length === 0) {
    return jsonError(
      c,
      409,
      "no_passkey",
      "Your account has no passkey. Ask an administrator for a new enrollment link.",
    );
  }
  const challenge = newChallenge();
  await storeChallenge(
    deps.stores.oneTime,
    "stepup",
    session.id,
    { challenge, userId: session.userId },
    deps.config.webauthn.challenge_ttl,
  );
  const options = await authenticationOptions(portal.rp, challenge, credentials, "required");
  c.header("cache-control", "no-store");
  return c.json(options);
}

export async function stepUpVerify(
  portal: Portal,
  c: PortalContext,
  client: Client,
  session: Session | undefined,
  body: AssertionBody,
): Promise<Response> {
  const { deps } = portal;
  const { stores, config } = deps;
  if (session === undefined) return noSession(c);
  const record = await takeChallenge(stores.oneTime, "stepup", session.id);
  const now = deps.clock();
  const subject = { userId: session.userId, client };
  const ban = await portal.regulation.bannedFor({ userId: session.userId, ip: client.key }, now);
  if (ban !== undefined) return banned(portal, c, "stepup", ban);
  if (record === undefined || record.userId !== session.userId) {
    return challengeExpired(portal, c, "stepup", subject);
  }
  const credential = await stores.credentials.get(body.response.id);
  if (credential === undefined) return refuse(portal, c, "stepup", subject, "unknown_credential");
  if (credential.userId !== session.userId) {
    return refuse(portal, c, "stepup", subject, "foreign_credential", { credential: credential.id });
  }
  const verified = await verifyAssertion(portal.rp, body.response as never, {
    challenge: record.challenge,
    credential,
    userId: session.userId,
    requireUserVerification: true,
  });
  if (!verified.ok)
    return refuse(portal, c, "stepup", subject, verified.reason, { credential: credential.id });

  const user = await stores.users.get(session.userId);
  if (user === undefined || user.status !== "active") {
    return jsonError(c, 403, "account_inactive", "This account is suspended. Contact an administrator.");
  }
  if (!(await stores.credentials.recordUse(credential.id, credentialUse(verified.value, now)))) {
    return refuse(portal, c, "stepup", subject, "unknown_credential");
  }
  const rotated = await stores.sessions.rotate(
    session.id,
    {
      acr: config.stepup.acr,
      amr: assertionAmr(verified.value),
      stepUpAt: now,
      ip: client.ip,
      country: client.country,
      uaHash: client.uaHash,
    },
    now,
    config.session.absolute_timeout,
  );
  if (rotated === undefined) return noSession(c);
  await portal.regulation.recordSuccess({ userId: session.userId, ip: client.key });
  succeeded(portal, "stepup", {
    user: session.userId,
    credential: credential.id,
    ip: client.ip,
    session: rotated.session.id,
  });
  c.header("set-cookie", sessionCookie(rotated.token, config));
  c.header("cache-control", "no-store");
  return c.json({ ok: true, redirect: returnUrl(deps, body.rd) });
}
