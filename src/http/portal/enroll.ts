/**
 * Enrollment from a one-time link: GET /enroll/:token (page), POST /webauthn/register/options and
 * /webauthn/register/verify. A failed registration leaves the link usable; a successful one
 * consumes it (GETDEL) before the passkey is stored, so a link enrolls at most one passkey.
 */
import type { User } from "../../core/types.ts";
import type { OneTimeStore } from "../../ports.ts";
import { newChallenge, storeChallenge, takeChallenge } from "../../webauthn/challenge.ts";
import {
  type EnrollmentRecord,
  enrollmentKey,
  hashEnrollmentToken,
  isWellFormedEnrollmentToken,
  parseEnrollmentRecord,
} from "../../webauthn/enrollment.ts";
import { registrationOptions, verifyRegistration } from "../../webauthn/registration.ts";
import type { RegisterVerifyBody } from "./body.ts";
import { type Client, jsonError, type Portal, type PortalContext, returnUrl } from "./context.ts";
import { admitStart, banned, challengeExpired, refuse, startSession, succeeded } from "./outcome.ts";

/** Reads an enrollment link without consuming it (the registration consumes it with take). */
export async function peekEnrollment(
  store: OneTimeStore,
  token: string,
  now: number,
): Promise<EnrollmentRecord | undefined> {
  if (!isWellFormedEnrollmentToken(token)) return undefined;
  return parseEnrollmentRecord(await store.peek(enrollmentKey(token)), now);
}

/** The user a live link enrolls, when the link and the user are both usable. */
export async function enrollmentUser(
  portal: Portal,
  token: string,
  now: number,
): Promise<{ record: EnrollmentRecord; user: User } | undefined> {
  const record = await peekEnrollment(portal.deps.stores.oneTime, token, now);
  if (record === undefined) return undefined;
  const user = await portal.deps.stores.users.get(record.userId);
  if (user === undefined || user.status !== "active") return undefined;
  if (record.firstAdmin && (await adminEnrolled(portal, user.id))) return undefined;
  return { record, user };
}

/** A first-admin link stops working once the admin has a passkey (other links were printed too). */
async function adminEnrolled(portal: Portal, userId: string): Promise<boolean> {
  return (await portal.deps.stores.credentials.listByUser(userId)).length > 0;
}

const linkInvalid = (c: PortalContext) =>
  jsonError(
    c,
    410,
    "link_invalid",
    "This enrollment link has expired or was already used. Ask an administrator for a new one.",
  );

export async function registerOptions(
  portal: Portal,
  c: PortalContext,
  client: Client,
  token: string,
): Promise<Response> {
  const { deps } = portal;
  const now = deps.clock();
  await admitStart(portal, c, "enroll", { userId: undefined, client }, now);
  const found = await enrollmentUser(portal, token, now);
  if (found === undefined) return linkInvalid(c);
  const existing = await deps.stores.credentials.listByUser(found.user.id);
  const challenge = newChallenge();
  await storeChallenge(
    deps.stores.oneTime,
    "register",
    hashEnrollmentToken(token),
    { challenge, userId: found.user.id },
    deps.config.webauthn.challenge_ttl,
  );
  const options = await registrationOptions(portal.rp, found.user, existing, challenge);
  c.header("cache-control", "no-store");
  return c.json(options);
}

export async function registerVerify(
  portal: Portal,
  c: PortalContext,
  client: Client,
  body: RegisterVerifyBody,
): Promise<Response> {
  const { deps } = portal;
  const { stores } = deps;
  if (!isWellFormedEnrollmentToken(body.token)) return linkInvalid(c);
  const record = await takeChallenge(stores.oneTime, "register", hashEnrollmentToken(body.token));
  const now = deps.clock();
  const subject = { userId: record?.userId, client };
  const ban = await portal.regulation.bannedFor({ userId: record?.userId, ip: client.key }, now);
  if (ban !== undefined) return banned(portal, c, "enroll", ban);
  if (record === undefined || record.userId === undefined) {
    return challengeExpired(portal, c, "enroll", subject);
  }
  const verified = await verifyRegistration(
    portal.rp,
    body.response as never,
    record.challenge,
    record.userId,
    now,
  );
  if (!verified.ok) return refuse(portal, c, "enroll", subject, verified.reason);
  if ((await stores.credentials.get(verified.credential.id)) !== undefined) {
    return jsonError(c, 409, "credential_exists", "This passkey is already registered.");
  }

  // Consume the link now: from here on it is spent, whatever else happens.
  const link = parseEnrollmentRecord(await stores.oneTime.take(enrollmentKey(body.token)), now);
  if (link === undefined || link.userId !== record.userId) return linkInvalid(c);
  if (link.firstAdmin && (await adminEnrolled(portal, link.userId))) return linkInvalid(c);
  const user = await stores.users.get(link.userId);
  if (user === undefined || user.status !== "active") {
    return jsonError(c, 403, "account_inactive", "This account is suspended. Contact an administrator.");
  }
  // Refused, not overwritten, when another enrollment registered the same id in the meantime.
  if (!(await stores.credentials.add(verified.credential))) {
    return jsonError(c, 409, "credential_exists", "This passkey is already registered.");
  }
  deps.metrics.enrollments.inc();
  const amr = [verified.credential.deviceType === "multiDevice" ? "swk" : "hwk", "user", "mfa"];
  const cookie = await startSession(portal, c, { userId: user.id, amr }, client, now);
  succeeded(portal, "enroll", {
    user: user.id,
    credential: verified.credential.id,
    backedUp: verified.credential.backedUp,
    deviceType: verified.credential.deviceType,
    ip: client.ip,
  });
  c.header("set-cookie", cookie);
  c.header("cache-control", "no-store");
  return c.json({ ok: true, redirect: returnUrl(deps, body.rd) });
}
