/**
 * The embedded state adapter: every port of src/ports.ts in process memory. For a single replica
 * (REDIS_URL unset); state is lost on restart. Same semantics as adapters/redis, proven by the
 * shared contract suite (test/adapters/store-contract.ts).
 */
import { DEFAULT_MAX_SESSIONS_PER_USER, type Stores } from "../../ports.ts";
import { createMemoryCredentialStore } from "./credential-store.ts";
import { createMemoryDecisionStateReader } from "./decision-state-reader.ts";
import { createMemoryFederationStore } from "./federation-store.ts";
import { createMemoryState } from "./memory-state.ts";
import { createMemorySessionStore } from "./session-store.ts";
import {
  createMemoryCounterStore,
  createMemoryOneTimeStore,
  createMemoryReplayGuard,
} from "./small-stores.ts";
import { createMemoryUserStore } from "./user-store.ts";

export interface MemoryStoreOptions {
  /** Most live sessions per user (config session.max_per_user); a new one revokes the oldest. */
  maxSessionsPerUser?: number;
}

export function createMemoryStores(options: MemoryStoreOptions = {}): Stores {
  const state = createMemoryState();
  return {
    decisions: createMemoryDecisionStateReader(state),
    sessions: createMemorySessionStore(state, options.maxSessionsPerUser ?? DEFAULT_MAX_SESSIONS_PER_USER),
    users: createMemoryUserStore(state),
    credentials: createMemoryCredentialStore(state),
    oneTime: createMemoryOneTimeStore(state),
    counters: createMemoryCounterStore(state),
    replay: createMemoryReplayGuard(state),
    federation: createMemoryFederationStore(state),
    health: { kind: "memory", ping: async () => true, close: async () => {} },
  };
}
