/** Building session records, shared by the Redis and memory session stores. */
import type { Session } from "../../core/types.ts";
import type { NewSession } from "../../ports.ts";

/** A new session record: bookkeeping fields start now, location unknown. */
export function newSession(id: string, input: NewSession, now: number): Session {
  return {
    id,
    userId: input.userId,
    acr: input.acr,
    amr: [...input.amr],
    authAt: input.authAt,
    stepUpAt: input.stepUpAt,
    ip: input.ip,
    country: input.country,
    uaHash: input.uaHash,
    lastLat: Number.NaN,
    lastLon: Number.NaN,
    lastLocatedAt: 0,
    lastSeenAt: now,
    createdAt: now,
    ...(input.federation ? { federation: { ...input.federation } } : {}),
  };
}

/**
 * The record that replaces `old` under a new id on a rotation (sign-in, step-up): `patch` applied,
 * last seen now, but the absolute lifetime still runs from the original sign-in (a step-up must not
 * extend it) and the last known location is kept for impossible-travel checks.
 */
export function rotatedSession(
  newId: string,
  old: Session,
  patch: Partial<NewSession>,
  now: number,
): Session {
  return {
    ...newSession(newId, { ...old, ...patch }, now),
    createdAt: old.createdAt,
    lastLat: old.lastLat,
    lastLon: old.lastLon,
    lastLocatedAt: old.lastLocatedAt,
  };
}
