/**
 * Adding a passkey from the account page: a registration ceremony bound to the signed-in session
 * (the challenge is stored under the session's handle, single use), with the same start limits,
 * bans and verification as enrollment. The route checks the session is fresh enough first.
 */
import { AccountError, type AccountOperations } from "../../account/operations.ts";
import type { Session } from "../../core/types.ts";
import { newChallenge, storeChallenge, takeChallenge } from "../../webauthn/challenge.ts";
import { registrationOptions, verifyRegistration } from "../../webauthn/registration.ts";
import { addPasskeyVerifyBody } from "../portal/body.ts";
import { type Client, jsonError, type Portal, type PortalContext } from "../portal/context.ts";
import { admitStart, banned, refuse } from "../portal/outcome.ts";
import { MAX_BODY_BYTES, readBodyText } from "../read-body.ts";

const binding = (session: Session) => `account:${session.id}`;

export async function addPasskeyOptions(
  portal: Portal,
  c: PortalContext,
  client: Client,
  session: Session,
  _ops: AccountOperations,
): Promise<Response> {
  const { deps } = portal;
  const now = deps.clock();
  const refused = await admitStart(portal, c, "enroll", { userId: session.userId, client }, now);
  if (refused !== undefined) return refused;
  const user = await deps.stores.users.get(session.userId);
  if (user === undefined || user.status !== "active") {
    return jsonError(c, 403, "account_inactive", "This account is suspended. Contact an administrator.");
  }
  const existing = await deps.stores.credentials.listByUser(user.id);
  const challenge = newChallenge();
  await storeChallenge(
    deps.stores.oneTime,
    "register",
    binding(session),
    { challenge, userId: user.id },
    deps.config.webauthn.challenge_ttl,
  );
  c.header("cache-control", "no-store");
  return c.json(await registrationOptions(portal.rp, user, existing, challenge));
}

export async function addPasskeyVerify(
  portal: Portal,
  c: PortalContext,
  client: Client,
  session: Session,
  ops: AccountOperations,
): Promise<Response> {
  const { deps } = portal;
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    return jsonError(c, 415, "unsupported_media_type", "Send JSON (Content-Type: application/json).");
  }
  const body = await readBodyText(c.req.raw, MAX_BODY_BYTES);
  if (!body.ok) return jsonError(c, 413, "body_too_large", "The request body is too large.");
  let parsed: ReturnType<typeof addPasskeyVerifyBody.safeParse>;
  try {
    parsed = addPasskeyVerifyBody.safeParse(JSON.parse(body.text));
  } catch {
    return jsonError(c, 400, "invalid_json", "The request body is not valid JSON.");
  }
  if (!parsed.success) {
    return jsonError(c, 400, "invalid_request", "The request body is not what this endpoint expects.");
  }
  // Taken before verifying: a challenge is spent by any attempt.
  const record = await takeChallenge(deps.stores.oneTime, "register", binding(session));
  const now = deps.clock();
  const subject = { userId: session.userId, client };
  const ban = await portal.regulation.bannedFor({ userId: session.userId, ip: client.ip }, now);
  if (ban !== undefined) return banned(portal, c, "enroll", ban);
  if (record === undefined || record.userId !== session.userId) {
    return refuse(portal, c, "enroll", subject, "challenge_expired");
  }
  const verified = await verifyRegistration(
    portal.rp,
    parsed.data.response as never,
    record.challenge,
    session.userId,
    now,
  );
  if (!verified.ok) return refuse(portal, c, "enroll", subject, verified.reason);
  // Suspended since the options were issued (sessions outlive a suspension until resume).
  if ((await deps.stores.users.get(session.userId))?.status !== "active") {
    return jsonError(c, 403, "account_inactive", "This account is suspended. Contact an administrator.");
  }
  if ((await deps.stores.credentials.get(verified.credential.id)) !== undefined) {
    return jsonError(c, 409, "credential_exists", "This passkey is already registered.");
  }
  try {
    await ops.addPasskey(verified.credential);
  } catch (error) {
    // Registered by someone else between the check above and now.
    if (error instanceof AccountError && error.code === "credential_exists") {
      return jsonError(c, 409, "credential_exists", "This passkey is already registered.");
    }
    throw error;
  }
  deps.metrics.enrollments.inc();
  c.header("cache-control", "no-store");
  return c.json({ ok: true, redirect: "/account?m=added#passkeys" });
}
