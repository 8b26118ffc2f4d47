/**
 * Session cookie tokens. The browser holds a 256-bit random token; the store only ever sees its
 * SHA-256 (the session id / handle), so a leaked store or log line cannot be replayed as a cookie.
 */
const TOKEN_BYTES = 32;

/** A fresh cookie token: 32 random bytes, base64url without padding. A secret: never log it. */
export function newSessionToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
  return Buffer.from(bytes).toString("base64url");
}

/** The public session handle for a cookie token: hex SHA-256. Pure and deterministic. */
export function sessionIdFromToken(token: string): string {
  return Bun.SHA256.hash(token, "hex") as string;
}
