/**
 * How a portal ceremony ends: a refusal is counted (regulation, metrics), logged without secrets
 * and answered with a clear JSON error; a success signs the browser in (new session, cookie).
 */
import { HTTPException } from "hono/http-exception";
import type { NewSession } from "../../ports.ts";
import { readSessionToken, sessionCookie } from "../../session/cookie.ts";
import { sessionIdFromToken } from "../../session/token.ts";
import { type Client, jsonError, type Portal, type PortalContext } from "./context.ts";
import type { StartLimited } from "./regulation.ts";

export type Ceremony = "enroll" | "signin" | "stepup";

const MESSAGES: Record<string, string> = {
  challenge_expired: "This passkey request expired or was already used. Start again.",
  unknown_credential: "This passkey is not registered here. Ask an administrator for a new enrollment link.",
  foreign_credential: "This passkey belongs to another account. Use your own passkey.",
  counter_not_increased:
    "This passkey could not be trusted (it may have been copied). Contact an administrator.",
  user_not_verified: "Your device did not verify you (PIN, fingerprint or face). Try again.",
  origin_mismatch: "The passkey answer came from the wrong site.",
  link_invalid: "This enrollment link has expired or was already used. Ask an administrator for a new one.",
};

/** The metric label of a ceremony's result. */
function resultLabel(
  ceremony: Ceremony,
  result: "success" | "failure" | "banned" | "start_limited" | "challenges_full",
): string {
  if (ceremony === "stepup") return result;
  return `${ceremony}_${result}`;
}

export function banned(
  portal: Portal,
  c: PortalContext,
  ceremony: Ceremony,
  retryAfterSec: number,
): Response {
  portal.deps.metrics.stepUpResults.inc({ result: resultLabel(ceremony, "banned") });
  return jsonError(
    c,
    429,
    "too_many_failures",
    `Too many failed passkey attempts. Try again in ${Math.ceil(retryAfterSec / 60)} minute(s).`,
    { "retry-after": String(retryAfterSec) },
  );
}

/**
 * The gate of a ceremony start (the options endpoints), before any challenge is stored: a banned
 * user or client gets 429 too_many_failures and is not counted as a start; when the store already
 * holds regulation.max_challenges challenges, 503 too_many_ceremonies (nothing written for this
 * client); otherwise the start is counted for the client's network (client_prefix), and past
 * regulation.max_starts in this start_window it gets 429 too_many_requests. Refusals are thrown
 * as an HTTPException (app.onError answers it); returns when the start may go on.
 */
export async function admitStart(
  portal: Portal,
  c: PortalContext,
  ceremony: Ceremony,
  subject: { userId: string | undefined; client: Client },
  now: number,
): Promise<void> {
  const { regulation, deps } = portal;
  const { ip, key } = subject.client;
  const ban = await regulation.bannedFor({ userId: subject.userId, ip: key }, now);
  if (ban !== undefined) throw new HTTPException(429, { res: banned(portal, c, ceremony, ban) });
  // The global bound first: past it, not even a per-client counter is created.
  const full = await regulation.reserveChallenge(now);
  if (full !== undefined) throw new HTTPException(503, { res: challengesFull(portal, c, ceremony, full) });
  const limited = await regulation.countStart(key, now);
  if (limited === undefined) return;
  await regulation.releaseChallenge(now);
  deps.metrics.stepUpResults.inc({ result: resultLabel(ceremony, "start_limited") });
  if (limited.first) {
    deps.logger.warn(
      {
        event: `${ceremony}_start_limited`,
        ip,
        client: key,
        user: subject.userId,
        retryAfter: limited.retryAfterSec,
      },
      "too many passkey ceremony starts from one address",
    );
  }
  const res = jsonError(
    c,
    429,
    "too_many_requests",
    `Too many passkey requests from your address. Try again in ${limited.retryAfterSec} second(s).`,
    { "retry-after": String(limited.retryAfterSec) },
  );
  throw new HTTPException(429, { res });
}

function challengesFull(portal: Portal, c: PortalContext, ceremony: Ceremony, full: StartLimited): Response {
  const { deps } = portal;
  deps.metrics.stepUpResults.inc({ result: resultLabel(ceremony, "challenges_full") });
  if (full.first) {
    deps.logger.error(
      {
        event: "challenges_full",
        max_challenges: deps.config.regulation.max_challenges,
        retryAfter: full.retryAfterSec,
      },
      "passkey ceremony starts refused: regulation.max_challenges challenges are already stored",
    );
  }
  return jsonError(
    c,
    503,
    "too_many_ceremonies",
    `Too many passkey requests are in progress. Try again in ${full.retryAfterSec} second(s).`,
    { "retry-after": String(full.retryAfterSec) },
  );
}

/**
 * No live challenge (never started, expired or already used): 400 challenge_expired, logged but
 * not counted towards a ban. Without a challenge nothing can be guessed, and counting it would let
 * anyone write a failure counter per client network into the store, from any number of networks.
 */
export function challengeExpired(
  portal: Portal,
  c: PortalContext,
  ceremony: Ceremony,
  subject: { userId: string | undefined; client: Client },
): Response {
  const { deps } = portal;
  deps.metrics.stepUpResults.inc({ result: resultLabel(ceremony, "failure") });
  deps.logger.warn(
    {
      event: `${ceremony}_refused`,
      reason: "challenge_expired",
      user: subject.userId,
      ip: subject.client.ip,
    },
    "passkey ceremony refused",
  );
  return jsonError(c, 400, "challenge_expired", MESSAGES.challenge_expired as string);
}

/** Counts and logs a failed ceremony; answers 400 (or 429 when this failure started a ban). */
export async function refuse(
  portal: Portal,
  c: PortalContext,
  ceremony: Ceremony,
  subject: { userId: string | undefined; client: Client },
  reason: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  const { deps } = portal;
  const now = deps.clock();
  const ban = await portal.regulation.recordFailure({ userId: subject.userId, ip: subject.client.key }, now, {
    stepUp: ceremony === "stepup",
  });
  deps.metrics.stepUpResults.inc({ result: resultLabel(ceremony, "failure") });
  const line = {
    event: `${ceremony}_refused`,
    reason,
    user: subject.userId,
    ip: subject.client.ip,
    ...extra,
  };
  if (reason === "counter_not_increased") {
    deps.logger.error(line, "passkey signature counter did not increase: possible cloned authenticator");
  } else {
    deps.logger.warn(line, "passkey ceremony refused");
  }
  if (ban !== undefined) return banned(portal, c, ceremony, ban);
  return jsonError(c, 400, reason, MESSAGES[reason] ?? "The passkey check failed. Try again.");
}

export function succeeded(portal: Portal, ceremony: Ceremony, fields: Record<string, unknown>): void {
  portal.deps.metrics.stepUpResults.inc({ result: resultLabel(ceremony, "success") });
  portal.deps.logger.info({ event: ceremony, ...fields }, "passkey ceremony passed");
}

/**
 * A fresh session for `userId` (sign-in, enrollment). Any session the browser already had is
 * deleted: a sign-in never inherits an older session (fixation). Returns the Set-Cookie value.
 */
export async function startSession(
  portal: Portal,
  c: PortalContext,
  input: Pick<NewSession, "userId" | "amr">,
  client: Client,
  now: number,
): Promise<string> {
  const { stores, config } = portal.deps;
  const previous = readSessionToken(c.req.header("cookie"));
  const before = previous === undefined ? undefined : await stores.sessions.get(sessionIdFromToken(previous));
  if (previous !== undefined) await stores.sessions.delete(sessionIdFromToken(previous));
  // The same user in the same browser stays tied to their IdP session (its logout still ends this one).
  const federation = before?.userId === input.userId ? before.federation : undefined;
  const { token } = await stores.sessions.create(
    {
      userId: input.userId,
      acr: config.session.signin_acr,
      amr: input.amr,
      authAt: now,
      stepUpAt: 0,
      ip: client.ip,
      country: client.country,
      uaHash: client.uaHash,
      ...(federation ? { federation } : {}),
    },
    now,
    config.session.absolute_timeout,
  );
  return sessionCookie(token, config);
}
