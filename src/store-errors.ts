/**
 * Store failures as the HTTP layer needs to tell them apart from bugs: both mean "the state did
 * not change, or the change is not known to be durable; retry", so they answer 503, never 500 and
 * never a success. The Redis adapter turns every rejection of a store call into one of these
 * (adapters/redis/store-failures.ts); the memory store never fails.
 */

/** The store did not answer, or refused the command (down, time-out, out of memory, read-only). */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  /** Short machine-readable cause for logs, e.g. "out_of_memory" (see storeFailureCause). */
  readonly reason: StoreFailureCause;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = storeFailureCause(message);
  }
}

/**
 * A security write reached the primary but was not acknowledged by enough replicas in time (or the
 * connection no longer talks to a primary). It may still be lost on a failover, so the caller is
 * told to retry instead of being told it worked.
 */
export class WriteNotConfirmedError extends StoreUnavailableError {
  override name = "WriteNotConfirmedError";
}

export type StoreFailureCause =
  | "out_of_memory"
  | "not_enough_replicas"
  | "read_only_replica"
  | "not_confirmed"
  | "timeout"
  | "disconnected"
  | "loading"
  | "other";

const DISCONNECTED =
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|MaxRetriesPerRequest/i;

/** Classifies a Redis error message, so one log field says why decisions fail closed. */
export function storeFailureCause(message: string): StoreFailureCause {
  if (message.startsWith("OOM ")) return "out_of_memory";
  if (message.startsWith("NOREPLICAS")) return "not_enough_replicas";
  if (message.startsWith("READONLY")) return "read_only_replica";
  if (message.startsWith("LOADING")) return "loading";
  if (message.startsWith("write not confirmed")) return "not_confirmed";
  if (/timed out/i.test(message)) return "timeout";
  if (DISCONNECTED.test(message)) return "disconnected";
  return "other";
}

/** What a caller should see when a store call failed: StoreUnavailableError (any subclass). */
export const isStoreFailure = (error: unknown): error is StoreUnavailableError =>
  error instanceof StoreUnavailableError;

/** The JSON body of a 503 for a store failure: what happened and that a retry is the answer. */
export function storeFailureBody(error: StoreUnavailableError): { error: string; message: string } {
  return error instanceof WriteNotConfirmedError
    ? { error: "not_confirmed", message: "the change was not confirmed by the store's replicas; retry" }
    : {
        error: "store_unavailable",
        message: "the store is unavailable; the change was not made or is not known to be; retry",
      };
}
