/**
 * Conversions between domain records and Redis hash fields (all strings). Kept apart from the
 * stores because the decision script returns the same hashes as flat arrays.
 */
import type { Session, User } from "../../core/types.ts";
import type { NewSession, StoredCredential } from "../../ports.ts";

export type HashFields = Record<string, string>;

/** HGETALL as a Lua script returns it: [field1, value1, field2, value2, …]. */
export function fieldsFromFlat(flat: readonly string[]): HashFields {
  const fields: HashFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

const isEmpty = (fields: HashFields): boolean => Object.keys(fields).length === 0;

/** Numbers that may be unknown (NaN) are stored as "". */
const encodeNumber = (value: number): string => (Number.isFinite(value) ? String(value) : "");
export const decodeNumber = (value: string | undefined): number =>
  value === undefined || value === "" ? Number.NaN : Number(value);
export const decodeInt = (value: string | undefined): number =>
  value === undefined ? 0 : Number(value) || 0;

/** The session fields a patch or a new session may set (everything but the bookkeeping). */
export function sessionPatchToFields(patch: Partial<NewSession>): HashFields {
  const fields: HashFields = {};
  if (patch.userId !== undefined) fields.userId = patch.userId;
  if (patch.acr !== undefined) fields.acr = patch.acr;
  if (patch.amr !== undefined) fields.amr = patch.amr.join(",");
  if (patch.authAt !== undefined) fields.authAt = String(patch.authAt);
  if (patch.stepUpAt !== undefined) fields.stepUpAt = String(patch.stepUpAt);
  if (patch.ip !== undefined) fields.ip = patch.ip;
  if (patch.country !== undefined) fields.country = patch.country;
  if (patch.uaHash !== undefined) fields.uaHash = patch.uaHash;
  if (patch.federation !== undefined) {
    fields.fedProvider = patch.federation.provider;
    fields.fedSubject = patch.federation.subject;
    fields.fedSid = patch.federation.sid;
  }
  return fields;
}

export function sessionToFields(session: Session, expiresAt: number): HashFields {
  return {
    ...sessionPatchToFields(session),
    lastLat: encodeNumber(session.lastLat),
    lastLon: encodeNumber(session.lastLon),
    lastLocatedAt: String(session.lastLocatedAt),
    lastSeenAt: String(session.lastSeenAt),
    createdAt: String(session.createdAt),
    expiresAt: String(expiresAt),
  };
}

/** Reads one stored field by name; undefined when the record lacks it. */
export type FieldReader = (name: string) => string | undefined;

/**
 * The one session decoder: the stores read whole hashes (sessionFromFields) and the decision
 * script returns the fields it needs as values (decision-state-reader.ts); both come through here,
 * so the defaults and the decoding cannot drift apart. No userId: no session.
 */
export function decodeSession(id: string, field: FieldReader): Session | undefined {
  const userId = field("userId");
  if (userId === undefined) return undefined;
  const amr = field("amr");
  const provider = field("fedProvider");
  return {
    id,
    userId,
    acr: field("acr") ?? "",
    amr: amr ? amr.split(",") : [],
    authAt: decodeInt(field("authAt")),
    stepUpAt: decodeInt(field("stepUpAt")),
    ip: field("ip") ?? "",
    country: field("country") ?? "",
    uaHash: field("uaHash") ?? "",
    lastLat: decodeNumber(field("lastLat")),
    lastLon: decodeNumber(field("lastLon")),
    lastLocatedAt: decodeInt(field("lastLocatedAt")),
    lastSeenAt: decodeInt(field("lastSeenAt")),
    createdAt: decodeInt(field("createdAt")),
    ...(provider
      ? { federation: { provider, subject: field("fedSubject") ?? "", sid: field("fedSid") ?? "" } }
      : {}),
  };
}

export function sessionFromFields(id: string, fields: HashFields): Session | undefined {
  if (isEmpty(fields)) return undefined;
  return decodeSession(id, (name) => fields[name]);
}

export function userPatchToFields(patch: Partial<Omit<User, "id">>): HashFields {
  const fields: HashFields = {};
  if (patch.displayName !== undefined) fields.displayName = patch.displayName;
  if (patch.status !== undefined) fields.status = patch.status;
  if (patch.groups !== undefined) fields.groups = JSON.stringify(patch.groups);
  if (patch.createdAt !== undefined) fields.createdAt = String(patch.createdAt);
  return fields;
}

/**
 * The one user decoder (see decodeSession); the caller has checked that the record exists.
 * Anything but an explicit "active" is treated as suspended: fail closed on a damaged record.
 */
export function decodeUser(id: string, field: FieldReader): User {
  return {
    id,
    displayName: field("displayName") ?? id,
    status: field("status") === "active" ? "active" : "suspended",
    groups: parseGroups(field("groups")),
    createdAt: decodeInt(field("createdAt")),
  };
}

export function userFromFields(id: string, fields: HashFields): User | undefined {
  if (isEmpty(fields)) return undefined;
  return decodeUser(id, (name) => fields[name]);
}

export function parseGroups(raw: string | undefined): string[] {
  if (raw === undefined || raw === "") return [];
  const parsed: unknown = JSON.parse(raw);
  return Array.isArray(parsed) ? parsed.filter((group): group is string => typeof group === "string") : [];
}

export function credentialToFields(credential: StoredCredential): HashFields {
  return {
    userId: credential.userId,
    publicKey: credential.publicKey,
    counter: String(credential.counter),
    transports: JSON.stringify(credential.transports),
    deviceType: credential.deviceType,
    backedUp: credential.backedUp ? "1" : "0",
    createdAt: String(credential.createdAt),
    lastUsedAt: String(credential.lastUsedAt),
    label: credential.label,
  };
}

export function credentialFromFields(id: string, fields: HashFields): StoredCredential | undefined {
  if (isEmpty(fields) || fields.userId === undefined || fields.publicKey === undefined) return undefined;
  const transports: unknown = JSON.parse(fields.transports || "[]");
  return {
    id,
    userId: fields.userId,
    publicKey: fields.publicKey,
    counter: decodeInt(fields.counter),
    transports: Array.isArray(transports) ? transports.filter((t): t is string => typeof t === "string") : [],
    deviceType: fields.deviceType === "multiDevice" ? "multiDevice" : "singleDevice",
    backedUp: fields.backedUp === "1",
    createdAt: decodeInt(fields.createdAt),
    lastUsedAt: decodeInt(fields.lastUsedAt),
    label: fields.label ?? "",
  };
}

/** Flattens fields to the [field, value, …] argument list HSET and the scripts take. */
export function flattenFields(fields: HashFields): string[] {
  return Object.entries(fields).flat();
}
