/**
 * The Redis key layout, in one place. Every key starts with the configured prefix (default
 * "vigil:"), so several deployments or test runs can share one server.
 *
 * Keys that a script touches together carry the same Redis Cluster hash tag (the text between
 * the first `{` and `}`), so they live in one slot:
 * - `{u:<user id>}`: the user record, their sessions and session index, their passkeys and the
 *   per-user rate counters (a session's own counter lives in its hash);
 * - `{ip:<client key>}`: the per-client rate counters and the dynamic reputation.
 * Entity ids are escaped (`%`, `{`, `}` as %25, %7B, %7D) so no id can end a tag early or
 * spell another id's key.
 */
import { ipReputationKey } from "../../ports.ts";

export interface KeyLayout {
  /** What every key of the user starts with (prefix and hash tag): user(id) === userSlot(id) + "user". */
  userSlot(userId: string): string;
  /** What every key of the client starts with: ipReputation(c) === clientSlot(c) + "rep". */
  clientSlot(clientKey: string): string;
  /** Hash of the user's record. */
  user(userId: string): string;
  /** Sorted set of the user's session hashes (members), scored by absolute expiry. */
  userSessions(userId: string): string;
  /** Hash of one session (`hash` = the hex part of the session id). */
  session(userId: string, hash: string): string;
  /** Per-user request counter of one fixed rate window. */
  userRate(userId: string, windowIndex: number): string;
  /** Set of the user's credential ids. */
  userCredentials(userId: string): string;
  /** Hash of one passkey. */
  credential(userId: string, credentialId: string): string;
  /** Per-client request counter of one fixed rate window. */
  ipRate(clientKey: string, windowIndex: number): string;
  /** Dynamic reputation points of a client (CounterStore key ipReputationKey(clientKey)). */
  ipReputation(clientKey: string): string;
  /** Which user a credential id belongs to: one key per id, the registry that keeps ids unique. */
  credentialOwner(credentialId: string): string;
  /** The set of all user ids (one slot; only admin writes and listings touch it). */
  users(): string;
  once(key: string): string;
  counter(key: string): string;
  replay(key: string): string;
}

/** An entity id inside a hash tag: nothing in it can close the tag or open another. */
const escapeId = (id: string): string =>
  /[%{}]/.test(id)
    ? id.replace(/[%{}]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`)
    : id;

const IP_REPUTATION = ipReputationKey("");

export function keyLayout(prefix: string): KeyLayout {
  if (/[{}]/.test(prefix)) {
    throw new Error("redis.prefix must not contain { or }: they would become the Cluster hash tag");
  }
  const u = (userId: string) => `${prefix}{u:${escapeId(userId)}}:`;
  const ip = (clientKey: string) => `${prefix}{ip:${escapeId(clientKey)}}:`;
  const layout: KeyLayout = {
    userSlot: u,
    clientSlot: ip,
    user: (userId) => `${u(userId)}user`,
    userSessions: (userId) => `${u(userId)}sessions`,
    session: (userId, hash) => `${u(userId)}s:${hash}`,
    userRate: (userId, windowIndex) => `${u(userId)}rate:${windowIndex}`,
    userCredentials: (userId) => `${u(userId)}creds`,
    credential: (userId, credentialId) => `${u(userId)}cred:${credentialId}`,
    ipRate: (clientKey, windowIndex) => `${ip(clientKey)}rate:${windowIndex}`,
    ipReputation: (clientKey) => `${ip(clientKey)}rep`,
    credentialOwner: (credentialId) => `${prefix}cred-owner:${credentialId}`,
    users: () => `${prefix}users`,
    once: (key) => `${prefix}once:${key}`,
    // The reputation counter is read by the decision script, so it lives in the client's slot.
    counter: (key) =>
      key.startsWith(IP_REPUTATION)
        ? layout.ipReputation(key.slice(IP_REPUTATION.length))
        : `${prefix}ctr:${key}`,
    replay: (key) => `${prefix}replay:${key}`,
  };
  return layout;
}
