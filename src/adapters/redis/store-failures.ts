/**
 * Every rejection of a Redis store call becomes a StoreUnavailableError (src/store-errors.ts), so
 * the admin API, the portal and the events receiver answer 503 "retry" instead of a 500 while Redis
 * is down, full or read-only. The decision reader is left bare: it is the hot path, and its one
 * caller already fails closed on any error.
 */
import { isStoreFailure, StoreUnavailableError } from "../../store-errors.ts";

const asStoreFailure = (error: unknown): StoreUnavailableError =>
  isStoreFailure(error)
    ? error
    : new StoreUnavailableError(error instanceof Error ? error.message : String(error), { cause: error });

/** The same store, with each method's rejection turned into a StoreUnavailableError. */
export function reportingFailures<T extends object>(store: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(store)) {
    wrapped[name] =
      typeof member === "function"
        ? async (...args: unknown[]) => {
            try {
              return await member.apply(store, args);
            } catch (error) {
              throw asStoreFailure(error);
            }
          }
        : member;
  }
  return wrapped as T;
}
