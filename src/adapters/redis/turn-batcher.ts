/**
 * Sends hot-path commands in small batches. A command waits until `batchLimit` commands are
 * waiting or the current event-loop turn ends (setImmediate), whichever comes first, and each
 * batch leaves as one socket write. On a busy replica that turns one `sendto` per decision into
 * one per batch: the Redis write was the largest single cost on the decision path
 * (docs/performance.md, fourth round). A lone request waits only for the end of its turn.
 *
 * Why not ioredis auto-pipelining: it runs one pipeline per connection at a time and flushes
 * only at the end of the turn, so every request of a turn rides in one batch that waits for the
 * whole previous batch's reply. Replicas then move in lock step with Redis (measured: fewer
 * requests a second, not more). A small limit keeps batches leaving while the turn goes on.
 *
 * Command timeouts: a batched command gets no timer of its own (one setTimeout and clearTimeout
 * per command cost about 2 % of a decision). One watchdog timer covers the oldest batch in
 * flight; a command without a reply `timeoutMs` after its batch left is rejected with ioredis's
 * own "Command timed out" error, as ioredis's commandTimeout would. Replies on one connection
 * come back in order, so the oldest batch is the only one that can be overdue first.
 */
import type Redis from "ioredis";
import { Command } from "ioredis";

/** The stream ioredis's Pipeline hands to sendCommand (ioredis does not export the type). */
type PipelineWriteableStream = Extract<Parameters<Redis["sendCommand"]>[1], { isPipeline: true }>;

/** A command whose deadline the batch watchdog keeps: ioredis's per-command timer is skipped. */
class BatchedCommand extends Command {
  override setTimeout(): void {}
}

interface BatchInFlight {
  commands: Command[];
  deadline: number;
}

export interface TurnBatcher {
  /** Queues `name args…` for the next batch; resolves with the reply (as a UTF-8 string). */
  send(name: string, args: readonly (string | number)[]): Promise<unknown>;
}

export interface TurnBatcherOptions {
  /** A full batch leaves at once, without waiting for the end of the turn. */
  batchLimit: number;
  /** A command without a reply this long after its batch left rejects (undefined: never). */
  timeoutMs: number | undefined;
}

/** One write: the commands' RESP text (ioredis gives strings unless an argument is a Buffer). */
function joinChunks(chunks: (string | Buffer)[]): string | Buffer {
  if (chunks.length === 1) return chunks[0]!;
  if (chunks.every((chunk) => typeof chunk === "string")) return chunks.join("");
  return Buffer.concat(chunks.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk)));
}

const allSettled = (commands: readonly Command[]) => commands.every((command) => command.isSettled);

export function createTurnBatcher(client: Redis, { batchLimit, timeoutMs }: TurnBatcherOptions): TurnBatcher {
  let waiting: Command[] = [];
  let flushScheduled = false;
  const inFlight: BatchInFlight[] = [];
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  // ioredis's own Pipeline protocol: sendCommand(command, stream) queues the command for its reply
  // and hands its RESP text to stream.write, here collected so a batch leaves as one socket write.
  // ioredis keeps this stream with the command and, after a reconnect, resends unanswered commands
  // through it: outside a flush it writes straight to the live socket, so a resent command is
  // really sent and replies stay matched to their commands.
  let collecting = false;
  const parts: (string | Buffer)[] = [];
  const collector: PipelineWriteableStream = {
    isPipeline: true,
    destination: { redis: client },
    write(chunk: string | Buffer) {
      if (collecting) parts.push(chunk);
      else client.stream.write(chunk);
    },
  };

  function flush() {
    flushScheduled = false;
    if (waiting.length === 0) return;
    const batch = waiting;
    waiting = [];
    collecting = true;
    try {
      for (const command of batch) client.sendCommand(command, collector);
    } finally {
      collecting = false;
    }
    // Commands the client refused (not connected) wrote nothing and are already rejected.
    if (parts.length > 0) client.stream.write(joinChunks(parts.splice(0)));
    if (timeoutMs === undefined) return;
    forgetSettled();
    inFlight.push({ commands: batch, deadline: performance.now() + timeoutMs });
    if (watchdog === undefined) armWatchdog();
  }

  /** Batches are answered in order: drop the answered ones from the front. */
  function forgetSettled() {
    while (inFlight.length > 0 && allSettled(inFlight[0]!.commands)) inFlight.shift();
  }

  function armWatchdog() {
    const oldest = inFlight[0];
    if (oldest === undefined) return;
    watchdog = setTimeout(expireOverdue, Math.max(1, oldest.deadline - performance.now()));
    // A pending watchdog must not keep a finished process alive.
    watchdog.unref?.();
  }

  function expireOverdue() {
    watchdog = undefined;
    const now = performance.now();
    forgetSettled();
    while (inFlight.length > 0 && inFlight[0]!.deadline <= now) {
      for (const command of inFlight.shift()!.commands) {
        if (!command.isSettled) command.reject(new Error("Command timed out"));
      }
      forgetSettled();
    }
    armWatchdog();
  }

  return {
    send(name, args) {
      const command = new BatchedCommand(name, args as (string | number)[], { replyEncoding: "utf8" });
      waiting.push(command);
      if (waiting.length >= batchLimit) flush();
      else if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
      return command.promise;
    },
  };
}
