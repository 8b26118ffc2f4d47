/**
 * The WebAuthn user handle of a Vigil user: SHA-256 of the user id. Fixed length (the spec caps
 * handles at 64 bytes, user ids may be longer), stable, and not the user name in clear.
 */
import { createHash } from "node:crypto";

export function userHandleBytes(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash("sha256").update(userId).digest());
}

/** base64url of the user handle, as it comes back in an assertion's response.userHandle. */
export function userHandle(userId: string): string {
  return Buffer.from(userHandleBytes(userId)).toString("base64url");
}
