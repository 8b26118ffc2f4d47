/**
 * The decision on Redis Cluster: the user slot's part and the client slot's part of the decision
 * script (scripts.ts), sent at once, so a decision still costs one round trip of latency. They go
 * through ioredis's Script (EVALSHA, EVAL on NOSCRIPT), each command on its own so the Cluster
 * client follows every redirection (client.ts): the reply-clocked batcher works on one connection's
 * internals and is not used here.
 */
import type { Cluster } from "ioredis";
import type { DecisionCall, DecisionReply } from "./context.ts";
import { decisionKeys } from "./decision-state-reader.ts";
import { DECISION_SCRIPTS } from "./scripts.ts";

/** KEYS of the user slot's and the client slot's parts (decisionKeys in decision-state-reader.ts). */
const USER_KEYS = 5;
const CLIENT_KEYS = 3;

type ScriptCommand = (...keysAndArgs: string[]) => Promise<string>;

/** Rejects with ioredis's own time-out error when `promise` has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("Command timed out")), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Decision calls on a Cluster client. `timeoutMs` bounds the whole decision, redirections
 * (MOVED, ASK) and retries (TRYAGAIN, CLUSTERDOWN) included: past it the decision fails closed.
 */
export function clusterDecision(
  client: Cluster,
  timeoutMs: number,
): (call: DecisionCall) => Promise<DecisionReply> {
  // Fixed key counts: the call's first argument is its first key.
  client.defineCommand("vigilDecisionUser", { lua: DECISION_SCRIPTS.user, numberOfKeys: USER_KEYS });
  client.defineCommand("vigilDecisionClient", { lua: DECISION_SCRIPTS.client, numberOfKeys: CLIENT_KEYS });
  const commands = client as unknown as Record<"vigilDecisionUser" | "vigilDecisionClient", ScriptCommand>;
  return (call) => {
    const { clientKeys, userKeys } = decisionKeys(call);
    const { args } = call;
    const user =
      userKeys.length === 0 ? Promise.resolve(undefined) : commands.vigilDecisionUser(...userKeys, ...args);
    const forClient = commands.vigilDecisionClient(...clientKeys, ...args);
    return withDeadline(
      Promise.all([user, forClient]).then(([userReply, clientReply]) => ({
        user: userReply,
        client: clientReply,
      })),
      timeoutMs,
    );
  };
}
