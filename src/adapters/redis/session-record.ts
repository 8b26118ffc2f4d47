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
  };
}
