/**
 * Security writes are confirmed or refused. Redis replicates asynchronously: a write the primary
 * answered "OK" is lost if the primary is replaced before a replica got it (kill, or a graceful
 * Sentinel failover during which the old primary keeps accepting writes until it is demoted and
 * resynced). For a revocation that means "revoked" answered, then the session allowed again.
 *
 * So after each security write (revoke, logout, suspend/resume, group change, passkey delete,
 * CAEP event, step-up rotation), on the connection that carried it:
 *   1. a marker SET (so WAIT below covers everything the primary holds now, not only this
 *      connection's own writes: a revoke that finds nothing to delete confirms that the state it
 *      read is durable too) and ROLE: the connection must still talk to a primary. If not, the
 *      client is made to reconnect (under Sentinel it then asks for the current primary).
 *   2. WAIT n timeout: n replicas must acknowledge. n is the configured number, or `auto`: the
 *      replicas the primary reports connected, and under Sentinel at least 1 (a primary without
 *      any replica is exactly the demoted or the freshly promoted one).
 * Anything short of that throws WriteNotConfirmedError (HTTP 503 "not confirmed, retry").
 *
 * The connection must not change between the write and WAIT: a new connection may reach another
 * primary, one that never got the write, and WAIT there would confirm a state without it.
 * `track()` notes the connection before the write and `confirm()` refuses if it closed since.
 *
 * WAIT blocks its connection until it returns, so security writes use their own client (server.ts),
 * never the one that carries decisions. `connectionFor(key)` picks the connection: the one write
 * connection on standalone and Sentinel, on Cluster the write client's connection to the master
 * that owns the key's slot (write-routing.ts), where WAIT covers the replicas of that slot.
 */
import type Redis from "ioredis";
import { Command } from "ioredis";
import { StoreUnavailableError, WriteNotConfirmedError } from "../../store-errors.ts";

export interface WriteConfirmationSettings {
  /** Replicas that must acknowledge: a number, or "auto" (see above). 0 = only the ROLE check. */
  replicas: "auto" | number;
  /** WAIT's own time-out: the longest a security write waits for acknowledgement. */
  timeoutMs: number;
}

export interface WriteConfirmationOptions extends WriteConfirmationSettings {
  /** The connection that carries writes to `key`; undefined while none is known (Cluster). */
  connectionFor: (key: string) => Redis | undefined;
  /** The marker key set before WAIT; on Cluster it must share `key`'s hash tag (same node). */
  markerKeyFor: (key: string) => string;
  /** "auto" never asks for fewer than this (1 under Sentinel, 0 on a standalone primary). */
  autoMinimum: number;
  /** Called when a connection is found talking to a non-primary, before it is made to reconnect. */
  onDemoted?: (role: string) => void;
  /** How to leave a demoted node (default: reconnect the connection; Cluster: refresh the slot map). */
  leaveDemoted?: (connection: Redis) => void;
  /** Called with each confirmation's outcome (vigil_write_confirmations_total). */
  onResult?: (result: "confirmed" | "not_confirmed") => void;
}

/** Call after the write(s): resolves when confirmed, throws WriteNotConfirmedError otherwise. */
export type ConfirmWrite = () => Promise<void>;

export interface WriteConfirmation {
  /** Notes the connection for `key` BEFORE its writes are sent; the returned function confirms them. */
  track(key: string): ConfirmWrite;
}

/** WAIT with its own deadline: ioredis's command time-out (e.g. 500 ms) is shorter than WAIT's. */
class WaitCommand extends Command {
  constructor(
    replicas: number,
    timeoutMs: number,
    private readonly deadlineMs: number,
  ) {
    super("wait", [replicas, timeoutMs]);
  }
  override setTimeout(): void {
    super.setTimeout(this.deadlineMs);
  }
}

/** How much longer than WAIT's own time-out its reply may take before the connection is deemed dead. */
const WAIT_REPLY_GRACE_MS = 1_000;

const MARKER_TTL_MS = 60_000;

const closures = new WeakMap<Redis, { count: number }>();

/** How many times `connection` has closed so far: a change means a new socket. */
function closeCounter(connection: Redis): { count: number } {
  let counter = closures.get(connection);
  if (counter === undefined) {
    const created = { count: 0 };
    connection.on("close", () => {
      created.count += 1;
    });
    closures.set(connection, created);
    counter = created;
  }
  return counter;
}

/** ROLE's reply → role name and how many replicas a primary lists. */
export function parseRole(reply: unknown): { role: string; replicas: number } {
  if (!Array.isArray(reply) || typeof reply[0] !== "string") return { role: "unknown", replicas: 0 };
  const role = reply[0];
  const replicas = role === "master" && Array.isArray(reply[2]) ? reply[2].length : 0;
  return { role, replicas };
}

export function createWriteConfirmation(options: WriteConfirmationOptions): WriteConfirmation {
  const { connectionFor, replicas, timeoutMs, autoMinimum } = options;

  const refuse = (why: string): never => {
    throw new WriteNotConfirmedError(`write not confirmed: ${why}; retry`);
  };

  async function confirm(
    connection: Redis,
    marker: string,
    counter: { count: number },
    closedBefore: number,
  ) {
    const sameSocket = () => {
      if (counter.count !== closedBefore) refuse("the connection to Redis changed during the write");
    };
    sameSocket();
    // Sent together, in this order, on the connection that carried the write.
    const [, roleReply] = await Promise.all([
      connection.set(marker, String(Date.now()), "PX", MARKER_TTL_MS),
      connection.call("ROLE"),
    ]);
    const { role, replicas: connected } = parseRole(roleReply);
    sameSocket();
    if (role !== "master") {
      options.onDemoted?.(role);
      // Leave the demoted node now; under Sentinel the reconnect asks for the current primary.
      (options.leaveDemoted ?? ((demoted: Redis) => demoted.disconnect(true)))(connection);
      refuse(`the Redis node is a ${role}, not the primary`);
    }
    const needed = replicas === "auto" ? Math.max(autoMinimum, connected) : replicas;
    if (needed === 0) return;
    const wait = new WaitCommand(needed, timeoutMs, timeoutMs + WAIT_REPLY_GRACE_MS);
    const acknowledged = Number(await connection.sendCommand(wait));
    sameSocket();
    if (acknowledged < needed) {
      refuse(`${acknowledged} of ${needed} replica(s) acknowledged within ${timeoutMs} ms`);
    }
  }

  return {
    track(key) {
      const connection = connectionFor(key);
      // Before the write: nothing is written that could not be confirmed.
      if (connection === undefined)
        throw new StoreUnavailableError("no Redis node is known for the key's slot");
      const counter = closeCounter(connection);
      const closedBefore = counter.count;
      return async () => {
        try {
          await confirm(connection, options.markerKeyFor(key), counter, closedBefore);
          options.onResult?.("confirmed");
        } catch (error) {
          options.onResult?.("not_confirmed");
          // The write itself went through: whatever failed after it leaves it unconfirmed.
          if (error instanceof WriteNotConfirmedError) throw error;
          throw new WriteNotConfirmedError(`write not confirmed: ${(error as Error).message}; retry`, {
            cause: error,
          });
        }
      };
    },
  };
}
