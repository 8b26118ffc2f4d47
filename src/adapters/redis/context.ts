import type Redis from "ioredis";
import type { Cluster } from "ioredis";
import type { KeyLayout } from "./keys.ts";
import type { VigilScripts } from "./scripts.ts";
import type { WriteConfirmation } from "./write-confirmation.ts";

/**
 * One decision's call: where its keys start and its arguments (see the decision scripts in
 * scripts.ts). decisionKeys() (decision-state-reader.ts) spells out every key.
 */
export interface DecisionCall {
  /** The client's slot start (keys.clientSlot). */
  clientSlot: string;
  /** The user's slot start; undefined when the request names no user (anonymous, or an untagged session id). */
  userSlot: string | undefined;
  /** The session's hash when the call reads a session (its key is `<user slot>s:<hash>`). */
  sessionHash: string | undefined;
  /** The rate window's index (0 when rate counting is off). */
  windowIndex: number;
  args: string[];
}

/** The decision's reply: one JSON string, or the user part's and the client part's (Cluster). */
export type DecisionReply = string | { user: string | undefined; client: string };

/** What every Redis store is built from: the shared client, the key layout and the scripts. */
export interface RedisContext {
  client: Redis | Cluster;
  keys: KeyLayout;
  scripts: VigilScripts;
  /** Runs the decision script(s) for one decision (one call, or two in parallel on Cluster). */
  decision(call: DecisionCall): Promise<DecisionReply>;
  /** Most live sessions a user may hold; a new one revokes the oldest beyond it. */
  maxSessionsPerUser: number;
  /** Confirms security writes on replicas (write-confirmation.ts); track before, confirm after. */
  confirmation: WriteConfirmation;
}
