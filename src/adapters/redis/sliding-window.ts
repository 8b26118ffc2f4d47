/**
 * Sliding-window-counter rate estimate, shared by the Redis and memory adapters so both count the
 * same way. Requests are counted in fixed windows of W ms; the estimate for "the last W ms" is the
 * current window's count plus the previous window's, weighted by how much of it still overlaps.
 */

/** Index of the fixed window `now` falls in. */
export const windowIndex = (now: number, windowMs: number): number => Math.floor(now / windowMs);

/** current + previous × (1 − elapsed fraction of the current window). */
export function slidingCount(current: number, previous: number, now: number, windowMs: number): number {
  const elapsed = (now % windowMs) / windowMs;
  return current + previous * (1 - elapsed);
}
