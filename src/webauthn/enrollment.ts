/**
 * One-time enrollment links. An admin (CLI, admin API, or the first-start bootstrap) mints a link
 * for a user; the store keeps only the SHA-256 of the token, under a key with the enrollment TTL.
 * The link is a secret: it is returned to the caller and never logged.
 */
import { createHash } from "node:crypto";
import type { Config } from "../config/load.ts";
import { isLocalUserId } from "../core/names.ts";
import type { Stores } from "../ports.ts";

const TOKEN_BYTES = 32;

/** What an enrollment token's store entry holds. */
export interface EnrollmentRecord {
  userId: string;
  expiresAt: number;
}

export interface EnrollmentDeps {
  stores: Pick<Stores, "users" | "oneTime">;
  config: Pick<Config, "publicOrigin" | "webauthn">;
}

export interface EnrollmentInput {
  userId: string;
  displayName?: string;
  groups?: string[];
}

/** OneTimeStore key of an enrollment token (by hash: the store never sees the token). */
export function enrollmentKey(token: string): string {
  return `enroll:${hashEnrollmentToken(token)}`;
}

/** Hex SHA-256 of an enrollment token. */
export function hashEnrollmentToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A syntactically plausible token (base64url, 43 chars); anything else is refused before any lookup. */
export function isWellFormedEnrollmentToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}

/**
 * Mints a one-time enrollment link for `userId`, creating the user (active, with `groups`) when
 * missing. Existing users keep their status and groups. Returns the secret token and its URL.
 */
export async function mintEnrollment(
  deps: EnrollmentDeps,
  input: EnrollmentInput,
  now: number,
): Promise<{ token: string; url: string; expiresAt: number }> {
  const userId = input.userId.trim();
  if (userId === "" || userId.length > 256 || /[\p{Cc}]/u.test(userId)) {
    throw new Error("mintEnrollment: userId must be 1-256 printable characters");
  }
  const existing = await deps.stores.users.get(userId);
  if (!existing && !isLocalUserId(userId)) {
    // `:` is reserved: `<issuer>:<sub>` names a bearer-token user that is not a local one.
    throw new Error("mintEnrollment: a new userId may not contain ':'");
  }
  if (!existing) {
    await deps.stores.users.put({
      id: userId,
      displayName: input.displayName?.trim() || userId,
      status: "active",
      groups: [...new Set(input.groups ?? [])],
      createdAt: now,
    });
  }
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES))).toString("base64url");
  const ttl = deps.config.webauthn.enrollment_ttl;
  const expiresAt = now + ttl;
  const record: EnrollmentRecord = { userId, expiresAt };
  await deps.stores.oneTime.put(enrollmentKey(token), JSON.stringify(record), ttl);
  return { token, url: `${deps.config.publicOrigin}/enroll/${token}`, expiresAt };
}

/** Parses a stored enrollment record; undefined when malformed or past its expiry. */
export function parseEnrollmentRecord(raw: string | undefined, now: number): EnrollmentRecord | undefined {
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<EnrollmentRecord>;
    if (typeof value.userId !== "string" || typeof value.expiresAt !== "number") return undefined;
    if (value.expiresAt <= now) return undefined;
    return { userId: value.userId, expiresAt: value.expiresAt };
  } catch {
    return undefined;
  }
}

export interface BootstrapDeps {
  stores: Pick<Stores, "users" | "oneTime">;
  config: Pick<Config, "publicOrigin" | "webauthn" | "bootstrap">;
}

/**
 * First start: when the user store is empty, mints an enrollment link for the configured first
 * admin and hands it to `print` (stdout in main.ts). The link is a secret: it must never go to the
 * logger. Returns the minted link, or undefined when users already exist.
 */
export async function bootstrapFirstAdmin(
  deps: BootstrapDeps,
  print: (line: string) => void,
  now: number,
): Promise<{ token: string; url: string; expiresAt: number } | undefined> {
  if ((await deps.stores.users.count()) > 0) return undefined;
  const { admin_user, admin_groups } = deps.config.bootstrap;
  const minted = await mintEnrollment(deps, { userId: admin_user, groups: admin_groups }, now);
  print(
    [
      "",
      `vigil: no users yet. Enroll the first admin "${admin_user}" (groups: ${admin_groups.join(", ") || "none"})`,
      `vigil: open this one-time link before ${new Date(minted.expiresAt).toISOString()}:`,
      `  ${minted.url}`,
      "",
    ].join("\n"),
  );
  return minted;
}
