/**
 * Sends the decision script, once per decision. On one Redis (standalone or Sentinel), with
 * `redis.batching` on, it is a bare EVALSHA through the reply-clocked batcher
 * (reply-clocked-batcher.ts) rather than ioredis `defineCommand` and auto-pipelining, because on
 * this path every microsecond counts (docs/performance.md): no Script wrapper (argument copies, a
 * reject closure, a chained promise per call), one socket write per batch, no timer per command.
 * The batcher leans on ioredis internals: when this ioredis lacks one (checked at start), or
 * batching is off, the call is a plain EVALSHA on the auto-pipelined client, public API only.
 * A Redis that lost the script without a reconnect (SCRIPT FLUSH) answers NOSCRIPT; the call
 * then sends EVAL, which loads it again for every later call.
 */
import { createHash } from "node:crypto";
import type Redis from "ioredis";
import {
  createReplyClockedBatcher,
  missingBatcherInternals,
  type ReplyClockedBatcher,
} from "./reply-clocked-batcher.ts";

/** Runs one decision script: its KEYS and ARGV (all strings) → its JSON reply. */
export type ScriptCall = (keys: readonly string[], args: readonly string[]) => Promise<string>;

/** How decision calls reach Redis (config redis.batching). */
export interface DecisionBatching {
  /** false: plain EVALSHA on the auto-pipelined client, ioredis's public API only. */
  enabled: boolean;
  /** Told once when batching is on but this ioredis lacks an internal it needs: the plain path is used. */
  onUnavailable?: (missing: readonly string[]) => void;
}

/**
 * Decision batching: batches form only once 4 commands await replies, and hold at most 8.
 * Measured on 2 cores (docs/performance.md): 4–16 per batch all cut CPU per decision by about
 * 10 %; 32 made replicas and Redis move in lock step (−18 % req/s).
 */
const DECISION_BATCHING = { batchFrom: 4, batchLimit: 8 };

/** One batcher per connection, however many store sets share it (tests build many). */
const decisionBatchers = new WeakMap<Redis, ReplyClockedBatcher>();

function decisionBatcher(client: Redis): ReplyClockedBatcher {
  let batcher = decisionBatchers.get(client);
  if (batcher === undefined) {
    const { commandTimeout } = client.options;
    batcher = createReplyClockedBatcher(client, {
      ...DECISION_BATCHING,
      timeoutMs: typeof commandTimeout === "number" ? commandTimeout : undefined,
    });
    decisionBatchers.set(client, batcher);
  }
  return batcher;
}

type Send = (
  name: "evalsha" | "eval",
  body: string,
  keys: readonly string[],
  args: readonly string[],
) => Promise<string>;

/**
 * The reply-clocked batcher when it is on and this ioredis has what it needs, else plain calls.
 * The socket checks need a ready connection: on a client not ready yet they run on its first "ready".
 */
function decisionSender(client: Redis, batching: DecisionBatching): Send {
  const plain: Send = (name, body, keys, args) =>
    client[name](body, keys.length, ...keys, ...args) as Promise<string>;
  if (!batching.enabled) return plain;
  let batcher: ReplyClockedBatcher | undefined;
  const adopt = (missing: readonly string[]) => {
    if (missing.length === 0) return;
    batcher = undefined;
    batching.onUnavailable?.(missing);
  };
  const missing = missingBatcherInternals(client);
  if (missing.length === 0) {
    batcher = decisionBatcher(client);
    if (client.status !== "ready") client.once("ready", () => adopt(missingBatcherInternals(client)));
  }
  adopt(missing);
  return (name, body, keys, args) =>
    batcher
      ? (batcher.send(name, [body, keys.length, ...keys, ...args]) as Promise<string>)
      : plain(name, body, keys, args);
}

export const scriptSha = (script: string): string => createHash("sha1").update(script).digest("hex");

const isNoScript = (error: unknown) => String((error as Error)?.message).startsWith("NOSCRIPT");

/** `script` on one Redis connection: batched, or plain (see DecisionBatching). */
export function decisionScriptCall(
  client: Redis,
  script: string,
  batching: DecisionBatching = { enabled: true },
): ScriptCall {
  const sha = scriptSha(script);
  const send = decisionSender(client, batching);
  // As ioredis's Script does: the first call on each connection sends EVAL (which also loads the
  // script), so even the first decision after a (re)connect is one command.
  const loadedOn = new WeakSet<object>();
  return async (keys, args) => {
    const socket = (client as { stream?: object }).stream;
    if (socket !== undefined && !loadedOn.has(socket)) {
      loadedOn.add(socket);
      return send("eval", script, keys, args);
    }
    try {
      return await send("evalsha", sha, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return send("eval", script, keys, args);
    }
  };
}
