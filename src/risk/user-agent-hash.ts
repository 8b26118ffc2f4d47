/**
 * The user-agent baseline of a session is kept as a hash: shorter, and not a fingerprint that
 * leaks through the session store. SHA-256 rather than Bun.hash because the value is stored and
 * must not change meaning when the runtime is upgraded.
 */
import { createHash } from "node:crypto";

/** Dotted version numbers keep only their major part: a browser's silent minor update is no new client. */
const VERSION = /(\d+)(?:\.\d+)+/g;
const HASH_HEX_LENGTH = 32;

/** "" for an absent user agent (no baseline); else 128 bits of SHA-256, hex. */
export function hashUserAgent(userAgent: string): string {
  const normalized = userAgent.trim().replace(VERSION, "$1");
  if (normalized === "") return "";
  return createHash("sha256").update(normalized).digest("hex").slice(0, HASH_HEX_LENGTH);
}
