/**
 * Discoverable passkey sign-in: POST /webauthn/login/options and /webauthn/login/verify. The
 * challenge is bound to a random ceremony id kept in a short-lived HttpOnly cookie.
 */
import { CEREMONY_COOKIE, ceremonyCookie, clearedCeremonyCookie, readCookie } from "../../session/cookie.ts";
import {
  assertionAmr,
  authenticationOptions,
  credentialUse,
  verifyAssertion,
} from "../../webauthn/authentication.ts";
import { newCeremonyId, newChallenge, storeChallenge, takeChallenge } from "../../webauthn/challenge.ts";
import type { AssertionBody } from "./body.ts";
import { type Client, jsonError, type Portal, type PortalContext, returnUrl } from "./context.ts";
import { admitStart, banned, challengeExpired, refuse, startSession, succeeded } from "./outcome.ts";

export async function loginOptions(portal: Portal, c: PortalContext, client: Client): Promise<Response> {
  const { deps } = portal;
  await admitStart(portal, c, "signin", { userId: undefined, client }, deps.clock());
  const ceremonyId = newCeremonyId();
  const challenge = newChallenge();
  const ttl = deps.config.webauthn.challenge_ttl;
  await storeChallenge(deps.stores.oneTime, "login", ceremonyId, { challenge, userId: undefined }, ttl);
  const options = await authenticationOptions(portal.rp, challenge, undefined, "preferred");
  c.header("set-cookie", ceremonyCookie(ceremonyId, ttl, deps.config));
  c.header("cache-control", "no-store");
  return c.json(options);
}

export async function loginVerify(
  portal: Portal,
  c: PortalContext,
  client: Client,
  body: AssertionBody,
): Promise<Response> {
  const { deps } = portal;
  const { stores } = deps;
  // Whatever happens next, this ceremony is over: its cookie goes, its challenge is taken.
  c.header("set-cookie", clearedCeremonyCookie(deps.config), { append: true });
  const ceremonyId = readCookie(c.req.header("cookie"), CEREMONY_COOKIE);
  const record = ceremonyId ? await takeChallenge(stores.oneTime, "login", ceremonyId) : undefined;
  const now = deps.clock();

  const ipBan = await portal.regulation.bannedFor({ userId: undefined, ip: client.key }, now);
  if (ipBan !== undefined) return banned(portal, c, "signin", ipBan);
  if (record === undefined) return challengeExpired(portal, c, "signin", { userId: undefined, client });

  const credential = await stores.credentials.get(body.response.id);
  if (credential === undefined) {
    return refuse(portal, c, "signin", { userId: undefined, client }, "unknown_credential");
  }
  const subject = { userId: credential.userId, client };
  const userBan = await portal.regulation.bannedFor({ userId: credential.userId, ip: client.key }, now);
  if (userBan !== undefined) return banned(portal, c, "signin", userBan);

  const verified = await verifyAssertion(portal.rp, body.response as never, {
    challenge: record.challenge,
    credential,
    userId: undefined,
    requireUserVerification: false,
  });
  if (!verified.ok)
    return refuse(portal, c, "signin", subject, verified.reason, { credential: credential.id });

  const user = await stores.users.get(credential.userId);
  if (user === undefined || user.status !== "active") {
    deps.logger.warn(
      { event: "signin_refused", reason: "user_inactive", user: credential.userId },
      "sign-in refused",
    );
    return jsonError(
      c,
      403,
      "account_inactive",
      "This account is suspended or no longer exists. Contact an administrator.",
    );
  }
  if (!(await stores.credentials.recordUse(credential.id, credentialUse(verified.value, now)))) {
    return refuse(portal, c, "signin", subject, "unknown_credential");
  }
  const cookie = await startSession(
    portal,
    c,
    { userId: user.id, amr: assertionAmr(verified.value) },
    client,
    now,
  );
  await portal.regulation.recordSuccess({ userId: user.id, ip: client.key });
  succeeded(portal, "signin", { user: user.id, credential: credential.id, ip: client.ip });
  c.header("set-cookie", cookie, { append: true });
  c.header("cache-control", "no-store");
  return c.json({ ok: true, redirect: returnUrl(deps, body.rd) });
}
