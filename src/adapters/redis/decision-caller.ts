/**
 * Sends the decision script, once per decision. On one Redis (standalone or Sentinel) it is a
 * bare EVALSHA through a turn batcher (turn-batcher.ts) rather than ioredis `defineCommand` and
 * auto-pipelining, because on this path every microsecond counts (docs/performance.md): no Script
 * wrapper (argument copies, a reject closure, a chained promise per call), one socket write per
 * batch, no timer per command.
 * A Redis that lost the script without a reconnect (SCRIPT FLUSH) answers NOSCRIPT; the call
 * then sends EVAL, which loads it again for every later call.
 */
import { createHash } from "node:crypto";
import type Redis from "ioredis";
import { createTurnBatcher, type TurnBatcher } from "./turn-batcher.ts";

/** Runs one decision script: its KEYS and ARGV (all strings) → its JSON reply. */
export type ScriptCall = (keys: readonly string[], args: readonly string[]) => Promise<string>;

/**
 * Decision batching (turn-batcher.ts): batches form only once 4 commands await replies, and hold
 * at most 8. Measured on 2 cores (docs/performance.md): 4–16 per batch all cut CPU per decision
 * by about 10 %; 32 made replicas and Redis move in lock step (−18 % req/s).
 */
const DECISION_BATCHING = { batchFrom: 4, batchLimit: 8 };

/** One batcher per connection, however many store sets share it (tests build many). */
const decisionBatchers = new WeakMap<Redis, TurnBatcher>();

function decisionBatcher(client: Redis): TurnBatcher {
  let batcher = decisionBatchers.get(client);
  if (batcher === undefined) {
    const { commandTimeout } = client.options;
    batcher = createTurnBatcher(client, {
      ...DECISION_BATCHING,
      timeoutMs: typeof commandTimeout === "number" ? commandTimeout : undefined,
    });
    decisionBatchers.set(client, batcher);
  }
  return batcher;
}

export const scriptSha = (script: string): string => createHash("sha1").update(script).digest("hex");

const isNoScript = (error: unknown) => String((error as Error)?.message).startsWith("NOSCRIPT");

/** `script` on one Redis connection, batched. */
export function batchedScriptCall(client: Redis, script: string): ScriptCall {
  const sha = scriptSha(script);
  const batcher = decisionBatcher(client);
  const send = (name: "evalsha" | "eval", body: string, keys: readonly string[], args: readonly string[]) =>
    batcher.send(name, [body, keys.length, ...keys, ...args]) as Promise<string>;
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
