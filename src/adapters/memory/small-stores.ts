/** In-memory one-time values, counters and replay guard: expiring entries with Redis semantics. */
import type { CounterStore, OneTimeStore, ReplayGuard } from "../../ports.ts";
import type { MemoryState } from "./memory-state.ts";

export function createMemoryOneTimeStore(state: MemoryState): OneTimeStore {
  return {
    async put(key, value, ttlMs) {
      state.once.set(key, value, ttlMs);
    },
    async take(key) {
      const value = state.once.get(key);
      state.once.delete(key);
      return value;
    },
    async peek(key) {
      return state.once.get(key);
    },
  };
}

export function createMemoryCounterStore(state: MemoryState): CounterStore {
  return {
    async add(key, by, ttlMs) {
      const value = (state.counters.get(key) ?? 0) + Math.trunc(by);
      state.counters.set(key, value, ttlMs);
      return value;
    },
    async get(key) {
      return state.counters.get(key) ?? 0;
    },
    async delete(key) {
      state.counters.delete(key);
    },
  };
}

export function createMemoryReplayGuard(state: MemoryState): ReplayGuard {
  return {
    async claim(key, ttlMs) {
      if (state.replay.has(key)) return false;
      state.replay.set(key, true, ttlMs);
      return true;
    },
    async release(key) {
      state.replay.delete(key);
    },
  };
}
