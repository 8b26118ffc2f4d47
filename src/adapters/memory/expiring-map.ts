/**
 * A Map whose entries expire like Redis keys: each has a deadline (wall clock, Date.now()),
 * checked on every read, and expired entries are swept now and then so memory stays bounded.
 */
const SWEEP_EVERY_MS = 30_000;

interface Entry<V> {
  value: V;
  /** Epoch ms after which the entry is gone; Infinity = no expiry. */
  deadline: number;
}

export class ExpiringMap<V> {
  readonly #entries = new Map<string, Entry<V>>();
  #nextSweepAt = Date.now() + SWEEP_EVERY_MS;

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.deadline <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores with a time to live (ms), or without expiry when ttlMs is undefined. */
  set(key: string, value: V, ttlMs?: number): void {
    this.#sweepNowAndThen();
    this.#entries.set(key, { value, deadline: ttlMs === undefined ? Infinity : Date.now() + ttlMs });
  }

  /** Sets a new time to live on a live entry (PEXPIRE); false when there is none. */
  expire(key: string, ttlMs: number): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.deadline <= Date.now()) return false;
    entry.deadline = Date.now() + ttlMs;
    return true;
  }

  delete(key: string): boolean {
    const existed = this.has(key);
    this.#entries.delete(key);
    return existed;
  }

  #sweepNowAndThen(): void {
    const now = Date.now();
    if (now < this.#nextSweepAt) return;
    this.#nextSweepAt = now + SWEEP_EVERY_MS;
    for (const [key, entry] of this.#entries) if (entry.deadline <= now) this.#entries.delete(key);
  }
}
