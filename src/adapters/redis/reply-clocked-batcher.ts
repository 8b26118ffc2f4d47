/**
 * Sends hot-path commands in small batches, clocked by Redis's own replies (as TCP's Nagle
 * algorithm is by acknowledgements):
 * - fewer than `batchFrom` commands awaiting replies on the connection: the command leaves at
 *   once (a quiet replica adds no delay);
 * - otherwise it waits, and the waiting commands leave together, as one socket write, when the
 *   next reply arrives, when `batchLimit` are waiting, or when the watchdog or a closed
 *   connection settles what was in flight, whichever comes first.
 * On a busy replica that turns one `sendto` per decision into one per batch: the Redis write was
 * the largest single cost on the decision path (docs/performance.md).
 *
 * Why not ioredis auto-pipelining, or a flush at the end of the loop turn: both wait for
 * setImmediate, which Bun runs only after its next poll (measured at 5,000 req/s: 0.07–0.12 ms
 * median, about 1 ms at p99), and auto-pipelining also runs one pipeline per connection at a
 * time. Both measured slower than sending every command at once.
 *
 * Command timeouts: a batched command gets no timer of its own (one setTimeout and clearTimeout
 * per command cost about 2 % of a decision). One watchdog timer covers the oldest batch in
 * flight; a command without a reply `timeoutMs` after it was handed over is rejected with ioredis's
 * own "Command timed out" error, as ioredis's commandTimeout would. Replies on one connection
 * come back in order, so the oldest batch is the only one that can be overdue first.
 *
 * It leans on ioredis internals that ioredis marks @ignore (package.json pins ioredis exactly for
 * that reason): `Redis#stream`, `Redis#commandQueue`, `Command#setTimeout` and `Command#isSettled`,
 * and sendCommand's pipeline protocol (a stream with `isPipeline` receives the command's RESP text
 * instead of the socket). missingBatcherInternals() checks each at start; scripts.ts then falls
 * back to plain EVALSHA on the auto-pipelined client, with a warning, when one is missing.
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

export interface ReplyClockedBatcher {
  /** Sends `name args…` now or with the next batch; resolves with the reply (as a UTF-8 string). */
  send(name: string, args: readonly (string | number)[]): Promise<unknown>;
}

export interface ReplyClockedBatcherOptions {
  /** Fewer commands than this awaiting replies on the connection: a new one leaves at once. */
  batchFrom: number;
  /** This many waiting commands leave at once, without waiting for a reply. */
  batchLimit: number;
  /** A command without a reply this long after its batch left rejects (undefined: never). */
  timeoutMs: number | undefined;
}

/** The stream sendCommand writes a pipelined command's RESP text to, instead of the socket. */
function collectingStream(client: Redis, write: (chunk: string | Buffer) => void): PipelineWriteableStream {
  return { isPipeline: true, destination: { redis: client }, write };
}

/**
 * The internals the batcher needs that this client lacks, by name; empty when batching works.
 * The socket and the pipeline protocol can only be checked on a ready connection: call again on
 * "ready" when the client was not ready yet. The protocol check sends one PING.
 */
export function missingBatcherInternals(client: Redis): string[] {
  const missing: string[] = [];
  if (typeof client.sendCommand !== "function") missing.push("Redis#sendCommand");
  const queue = (client as { commandQueue?: { length?: unknown } }).commandQueue;
  if (typeof queue?.length !== "number") missing.push("Redis#commandQueue");
  if (typeof Command.prototype.setTimeout !== "function") missing.push("Command#setTimeout");
  if (typeof new Command("ping", []).isSettled !== "boolean") missing.push("Command#isSettled");
  if (client.status !== "ready" || missing.length > 0) return missing;
  const socket = client.stream as { write?: unknown; on?: unknown } | undefined;
  if (typeof socket?.write !== "function" || typeof socket.on !== "function") {
    missing.push("Redis#stream");
    return missing;
  }
  // A PING through the pipeline protocol: its text must come to the stream (then it is sent).
  let text: string | Buffer | undefined;
  const ping = new Command("ping", [], { replyEncoding: "utf8" });
  client.sendCommand(
    ping,
    collectingStream(client, (chunk) => (text = chunk)),
  );
  ping.promise.catch(() => {});
  if (text === undefined) missing.push("sendCommand's pipeline protocol");
  else client.stream.write(text);
  return missing;
}

/** One write: the commands' RESP text (ioredis gives strings unless an argument is a Buffer). */
function joinChunks(chunks: (string | Buffer)[]): string | Buffer {
  if (chunks.length === 1) return chunks[0]!;
  if (chunks.every((chunk) => typeof chunk === "string")) return chunks.join("");
  return Buffer.concat(chunks.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk)));
}

const allSettled = (commands: readonly Command[]) => commands.every((command) => command.isSettled);

export function createReplyClockedBatcher(
  client: Redis,
  { batchFrom, batchLimit, timeoutMs }: ReplyClockedBatcherOptions,
): ReplyClockedBatcher {
  let waiting: Command[] = [];
  /** When the oldest waiting command was handed over: its time-out counts from then. */
  let waitingSince = 0;
  const inFlight: BatchInFlight[] = [];
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  /** The socket whose replies (and close) flush the waiting commands; a reconnect brings a new one. */
  let clockedSocket: object | undefined;
  // ioredis's own Pipeline protocol: sendCommand(command, stream) queues the command for its reply
  // and hands its RESP text to stream.write, here collected so a batch leaves as one socket write.
  // ioredis keeps this stream with the command and, after a reconnect, resends unanswered commands
  // through it: outside a flush it writes straight to the live socket, so a resent command is
  // really sent and replies stay matched to their commands.
  let collecting = false;
  const parts: (string | Buffer)[] = [];
  const collector = collectingStream(client, (chunk) => {
    if (collecting) parts.push(chunk);
    else client.stream.write(chunk);
  });

  const flushWaiting = () => {
    if (waiting.length > 0) flush();
  };

  function flush() {
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
    inFlight.push({ commands: batch, deadline: waitingSince + timeoutMs });
    if (watchdog === undefined) armWatchdog();
  }

  /** Listens on the current socket: ioredis parses each reply chunk first, then this sends the next batch. */
  function clockBySocket() {
    const socket = client.stream as (object & { on?(event: string, listener: () => void): void }) | undefined;
    if (socket === undefined || socket === clockedSocket || typeof socket.on !== "function") return;
    clockedSocket = socket;
    socket.on("data", flushWaiting);
    // On close ioredis settles (or keeps for resending) what was in flight; the waiting commands
    // then go to the next connection, or are refused at once while there is none.
    socket.on("close", flushWaiting);
  }

  /** Batches are answered in order: drop the answered ones from the front. */
  function forgetSettled() {
    while (inFlight.length > 0 && allSettled(inFlight[0]!.commands)) inFlight.shift();
  }

  /** Wakes at the earliest deadline: the oldest batch in flight, else the oldest waiting command. */
  function armWatchdog() {
    if (timeoutMs === undefined) return;
    const deadline = inFlight[0]?.deadline ?? (waiting.length > 0 ? waitingSince + timeoutMs : undefined);
    if (deadline === undefined) return;
    watchdog = setTimeout(expireOverdue, Math.max(1, deadline - performance.now()));
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
    // Commands held back behind a stalled connection leave now; a waiting one past its deadline
    // is sent and expires at the next wake, 1 ms later.
    flushWaiting();
    armWatchdog();
  }

  return {
    send(name, args) {
      const command = new BatchedCommand(name, args as (string | number)[], { replyEncoding: "utf8" });
      if (waiting.length === 0) waitingSince = performance.now();
      waiting.push(command);
      clockBySocket();
      if (client.commandQueue.length < batchFrom || waiting.length >= batchLimit) flush();
      // Held behind commands that may never be answered (a stalled Redis, or other callers'
      // commands that already timed out): the watchdog bounds the wait.
      else if (watchdog === undefined) armWatchdog();
      return command.promise;
    },
  };
}
