/**
 * One-time enrollment links. An admin (CLI, admin API, or the first-start bootstrap) mints a link
 * for a user; the store keeps only the SHA-256 of the token, under a key with the enrollment TTL.
 * The link is a secret: it is returned to the caller and never logged.
 */
import { createHash } from "node:crypto";
import type { Config } from "../config/load.ts";
import { isLocalUserId, LOCAL_USER_ID_RULE } from "../core/names.ts";
import type { Stores } from "../ports.ts";

const TOKEN_BYTES = 32;

/** What an enrollment token's store entry holds. */
export interface EnrollmentRecord {
  userId: string;
  expiresAt: number;
  /**
   * A first-admin link (printed at start): it enrolls only while the user has no passkey, so the
   * links several replicas and restarts printed all stop working once the admin has enrolled.
   */
  firstAdmin?: true;
}

export interface EnrollmentDeps {
  stores: Pick<Stores, "users" | "oneTime">;
  config: Pick<Config, "publicOrigin" | "webauthn">;
}

export interface EnrollmentInput {
  userId: string;
  displayName?: string;
  groups?: string[];
  /** Lifetime of the link; default webauthn.enrollment_ttl. */
  ttlMs?: number;
  /** Make every link minted earlier for this user unusable (recovery links do). */
  revokeEarlierLinks?: boolean;
  /** Marks a first-admin link (see EnrollmentRecord.firstAdmin). */
  firstAdmin?: boolean;
}

/** OneTimeStore key listing a user's outstanding link keys (newest last, at most MAX_TRACKED_LINKS). */
const linksKey = (userId: string) => `enroll-links:${userId}`;
const MAX_TRACKED_LINKS = 10;

function trackedLinks(raw: string | undefined): string[] {
  try {
    const parsed: unknown = JSON.parse(raw ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((key): key is string => typeof key === "string") : [];
  } catch {
    return [];
  }
}

/** Makes every outstanding link of the user unusable; returns how many were still live. */
export async function revokeLinks(stores: Pick<Stores, "oneTime">, userId: string): Promise<number> {
  let revoked = 0;
  for (const key of trackedLinks(await stores.oneTime.take(linksKey(userId)))) {
    if ((await stores.oneTime.take(key)) !== undefined) revoked++;
  }
  return revoked;
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
  // Taken as given: trimming " admin" would hand out the admin's link.
  const userId = input.userId;
  if (userId === "" || userId.length > 256 || /[\p{Cc}]/u.test(userId)) {
    throw new Error("mintEnrollment: userId must be 1-256 printable characters");
  }
  const existing = await deps.stores.users.get(userId);
  if (!existing && !isLocalUserId(userId)) {
    // `:` is reserved: `<issuer>:<sub>` names a bearer-token user that is not a local one.
    throw new Error(`mintEnrollment: a new userId must be ${LOCAL_USER_ID_RULE}`);
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
  if (input.revokeEarlierLinks) await revokeLinks(deps.stores, userId);
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES))).toString("base64url");
  const ttl = input.ttlMs ?? deps.config.webauthn.enrollment_ttl;
  const expiresAt = now + ttl;
  const record: EnrollmentRecord = input.firstAdmin
    ? { userId, expiresAt, firstAdmin: true }
    : { userId, expiresAt };
  await deps.stores.oneTime.put(enrollmentKey(token), JSON.stringify(record), ttl);
  // Remember the link so a later recovery link or a deletion can revoke it (the list outlives
  // every link in it: the longest link lifetime is the enrollment TTL).
  const links = [...trackedLinks(await deps.stores.oneTime.peek(linksKey(userId))), enrollmentKey(token)];
  await deps.stores.oneTime.put(
    linksKey(userId),
    JSON.stringify(links.slice(-MAX_TRACKED_LINKS)),
    Math.max(ttl, deps.config.webauthn.enrollment_ttl),
  );
  return { token, url: `${deps.config.publicOrigin}/enroll/${token}`, expiresAt };
}

/** Parses a stored enrollment record; undefined when malformed or past its expiry. */
export function parseEnrollmentRecord(raw: string | undefined, now: number): EnrollmentRecord | undefined {
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<EnrollmentRecord>;
    if (typeof value.userId !== "string" || typeof value.expiresAt !== "number") return undefined;
    if (value.expiresAt <= now) return undefined;
    const record: EnrollmentRecord = { userId: value.userId, expiresAt: value.expiresAt };
    if (value.firstAdmin === true) record.firstAdmin = true;
    return record;
  } catch {
    return undefined;
  }
}

export interface BootstrapDeps {
  stores: Pick<Stores, "users" | "oneTime" | "credentials">;
  config: Pick<Config, "publicOrigin" | "webauthn" | "bootstrap">;
}

/**
 * Whether a start should print a first-admin link: the store has no users at all (the admin is
 * created), or the configured admin exists, is active and has no passkey yet. Any replica, at any
 * start, until the admin enrolls: two replicas starting together each print a link, and a restart
 * before the admin enrolled prints a fresh one. A store whose users do not include the admin is
 * left alone (someone else administers it).
 */
async function firstAdminPending(deps: BootstrapDeps): Promise<boolean> {
  const adminId = deps.config.bootstrap.admin_user;
  const admin = await deps.stores.users.get(adminId);
  if (admin === undefined) return (await deps.stores.users.count()) === 0;
  if (admin.status !== "active") return false;
  return (await deps.stores.credentials.listByUser(adminId)).length === 0;
}

/**
 * Start: while the first admin has no passkey, mints a one-time first-admin enrollment link and
 * hands it to `print` (stdout in server.ts). The link is a secret: it must never go to the logger.
 * Returns the minted link, or undefined when there is nothing to bootstrap.
 */
export async function bootstrapFirstAdmin(
  deps: BootstrapDeps,
  print: (line: string) => void,
  now: number,
): Promise<{ token: string; url: string; expiresAt: number } | undefined> {
  if (!(await firstAdminPending(deps))) return undefined;
  const { admin_user, admin_groups } = deps.config.bootstrap;
  const minted = await mintEnrollment(
    deps,
    { userId: admin_user, groups: admin_groups, firstAdmin: true },
    now,
  );
  print(
    [
      "",
      `vigil: the first admin "${admin_user}" (groups: ${admin_groups.join(", ") || "none"}) has no passkey yet.`,
      `vigil: open this one-time link before ${new Date(minted.expiresAt).toISOString()} to enroll one`,
      "vigil: (every start prints a fresh link until then; the first one used ends them all):",
      `  ${minted.url}`,
      "",
    ].join("\n"),
  );
  return minted;
}
