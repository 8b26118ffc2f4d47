/**
 * Session cookie tokens: `<user tag>.<secret>`. The secret is 256 random bits; the user tag is
 * the base64url of the user id, so a decision knows which user's keys (one Redis Cluster slot)
 * to read without a lookup. The store only ever sees the session id, `<user tag>.<SHA-256 of the
 * whole token>`, so a leaked store or log line cannot be replayed as a cookie, and editing the tag
 * changes the hash too: a tampered cookie only misses.
 */
import { memoize } from "../lib/memoize.ts";

const SECRET_BYTES = 32;

/** What a cookie token of ours looks like: base64url, optionally after a user tag and a dot. */
export const TOKEN_PATTERN = /^(?:[A-Za-z0-9_-]{1,344}\.)?[A-Za-z0-9_-]{20,128}$/;

/** User ids longer than this (in UTF-8 bytes) cannot hold a session (the cookie stays small). */
export const MAX_USER_ID_BYTES = 256;

/** The tag a user's session tokens and ids start with: base64url of the user id. */
export function userTag(userId: string): string {
  return Buffer.from(userId, "utf8").toString("base64url");
}

/** A fresh cookie token for `userId`. A secret: never log it. */
export function newSessionToken(userId: string): string {
  if (userId === "" || Buffer.byteLength(userId, "utf8") > MAX_USER_ID_BYTES) {
    throw new Error(`a session needs a user id of 1 to ${MAX_USER_ID_BYTES} bytes`);
  }
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return `${userTag(userId)}.${Buffer.from(bytes).toString("base64url")}`;
}

/**
 * The public session id for a cookie token: `<user tag>.<hex SHA-256 of the token>`. A token
 * without a tag (issued before tags existed) maps to the bare hash, which no store holds.
 */
export function sessionIdFromToken(token: string): string {
  const hash = Bun.SHA256.hash(token, "hex") as string;
  const dot = token.indexOf(".");
  return dot <= 0 ? hash : `${token.slice(0, dot)}.${hash}`;
}

/** The parts of a session id, or undefined when it carries no valid user tag. */
export function parseSessionId(sessionId: string): { userId: string; hash: string } | undefined {
  const dot = sessionId.indexOf(".");
  if (dot <= 0) return undefined;
  const hash = sessionId.slice(dot + 1);
  if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
  const userId = userIdOfTag(sessionId.slice(0, dot));
  return userId === undefined ? undefined : { userId, hash };
}

/** The user id a tag names, or undefined when it is not a canonical tag of a non-empty id. */
function decodeUserTag(tag: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(tag)) return undefined;
  const userId = Buffer.from(tag, "base64url").toString("utf8");
  // Only the canonical encoding: two tags must never name the same user.
  return userId === "" || userTag(userId) !== tag ? undefined : userId;
}

/**
 * Memoised: every decision decodes its session's tag, and one user's tags are always the same
 * text (decoding is a pure function of it; nothing from the store is kept).
 */
const userIdOfTag = memoize(decodeUserTag, 4096);

/** The session id of the session `hash` of `userId` (the inverse of parseSessionId). */
export const sessionIdOf = (userId: string, hash: string): string => `${userTag(userId)}.${hash}`;
