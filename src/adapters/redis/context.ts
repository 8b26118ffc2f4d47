import type Redis from "ioredis";
import type { Cluster } from "ioredis";
import type { DecisionCall, DecisionReply } from "./decision-state-reader.ts";
import type { KeyLayout } from "./keys.ts";
import type { VigilScripts } from "./scripts.ts";

/** What every Redis store is built from: the shared client, the key layout and the scripts. */
export interface RedisContext {
  client: Redis | Cluster;
  keys: KeyLayout;
  scripts: VigilScripts;
  /** Runs the decision script(s) for one decision (one call, or two in parallel on Cluster). */
  decision(call: DecisionCall): Promise<DecisionReply>;
  /** Most live sessions a user may hold; a new one revokes the oldest beyond it. */
  maxSessionsPerUser: number;
}
