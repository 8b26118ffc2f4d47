/**
 * Everything the embedded (single replica) store holds, shared by the memory stores the way a
 * Redis server is shared by the Redis ones. Records are copied in and out, never shared.
 */
import type { Session, User } from "../../core/types.ts";
import type { StoredCredential } from "../../ports.ts";
import { ExpiringMap } from "./expiring-map.ts";

export interface SessionRecord {
  session: Session;
  /** createdAt + absolute time-out (logical time, like the Redis hash's expiresAt). */
  expiresAt: number;
}

export interface MemoryState {
  sessions: ExpiringMap<SessionRecord>;
  userSessions: Map<string, Set<string>>;
  users: Map<string, User>;
  credentials: Map<string, StoredCredential>;
  userCredentials: Map<string, Set<string>>;
  once: ExpiringMap<string>;
  /** CounterStore counters, including the dynamic IP reputation the decision reads. */
  counters: ExpiringMap<number>;
  /** Sliding-window request counters, keyed `<scope>:<id>:<windowIndex>`. */
  rate: ExpiringMap<number>;
  replay: ExpiringMap<true>;
}

export function createMemoryState(): MemoryState {
  return {
    sessions: new ExpiringMap(),
    userSessions: new Map(),
    users: new Map(),
    credentials: new Map(),
    userCredentials: new Map(),
    once: new ExpiringMap(),
    counters: new ExpiringMap(),
    rate: new ExpiringMap(),
    replay: new ExpiringMap(),
  };
}

export const copySession = (session: Session): Session => ({
  ...session,
  amr: [...session.amr],
  ...(session.federation ? { federation: { ...session.federation } } : {}),
});
export const copyUser = (user: User): User => ({ ...user, groups: [...user.groups] });
export const copyCredential = (credential: StoredCredential): StoredCredential => ({
  ...credential,
  transports: [...credential.transports],
});

/** Adds `member` to the set under `key` in an index map (creating the set). */
export function indexAdd(index: Map<string, Set<string>>, key: string, member: string): void {
  const members = index.get(key) ?? new Set<string>();
  members.add(member);
  index.set(key, members);
}

/** Removes `member`, dropping the set when it becomes empty. */
export function indexRemove(index: Map<string, Set<string>>, key: string, member: string): void {
  const members = index.get(key);
  if (members === undefined) return;
  members.delete(member);
  if (members.size === 0) index.delete(key);
}
