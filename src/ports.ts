/**
 * The interfaces the core and the HTTP layer use to reach state. Two implementations each:
 * adapters/redis (production, shared by every replica) and adapters/memory (embedded default,
 * single replica). Both pass the same contract suite (test/adapters/store-contract.ts).
 */
import type { RateCounts, Session, User } from "./core/types.ts";

/** Input of the decision's single round trip. */
export interface DecisionStateQuery {
  /** Session handle (SHA-256 of the cookie token), when the request carried a cookie. */
  sessionId: string | undefined;
  /** User id, when the identity came from a bearer JWT (no session). */
  userId: string | undefined;
  /** The client's network (RequestFacts.clientKey): the "ip" rate counter and IP reputation key. */
  clientKey: string;
  now: number;
  /** Sliding window for the rate counters; undefined = do not count (e.g. no rate limits set). */
  rateWindowMs: number | undefined;
  /** Where this request comes from, recorded as the session's last seen location. */
  location: { lat: number; lon: number } | undefined;
  /** Idle time-out: a live session's expiry is pushed to now + idle (capped by absolute). */
  idleTimeoutMs: number;
}

/** Output of the decision's single round trip. */
export interface DecisionState {
  /** The session as it was BEFORE this request touched it (lastSeenAt/lastLat/lastLon/lastLocatedAt are the previous ones). */
  session: Session | undefined;
  user: User | undefined;
  rate: RateCounts;
  /** Dynamic IP reputation points (failed step-ups, rate violations); 0 when clean. */
  ipReputation: number;
}

/** Reads session + user + counters + IP reputation and bumps counters, in ONE round trip. */
export interface DecisionStateReader {
  read(query: DecisionStateQuery): Promise<DecisionState>;
}

export type NewSession = Omit<
  Session,
  "id" | "createdAt" | "lastSeenAt" | "lastLat" | "lastLon" | "lastLocatedAt"
>;

/** What may change on a live session: anything but its user (a user's sessions live together). */
export type SessionPatch = Partial<Omit<NewSession, "userId">>;

/** Default of config session.max_per_user: live sessions per user before the oldest is revoked. */
export const DEFAULT_MAX_SESSIONS_PER_USER = 50;

export interface SessionStore {
  /**
   * Creates a session and returns its secret cookie token (shown once) and the stored record.
   * When the user already holds the maximum of live sessions, the oldest are revoked first.
   */
  create(input: NewSession, now: number, absoluteTtlMs: number): Promise<{ token: string; session: Session }>;
  get(sessionId: string): Promise<Session | undefined>;
  /**
   * Replaces a session by a new one with a new token (fixation defence on every privilege change),
   * applying `patch`. Returns undefined when the old one no longer exists.
   */
  rotate(
    sessionId: string,
    patch: SessionPatch,
    now: number,
    absoluteTtlMs: number,
  ): Promise<{ token: string; session: Session } | undefined>;
  /** Applies `patch` to a live session; false when it does not exist. */
  update(sessionId: string, patch: SessionPatch): Promise<boolean>;
  delete(sessionId: string): Promise<boolean>;
  listByUser(userId: string): Promise<Session[]>;
  /** Deletes every session of the user; returns how many there were. */
  deleteByUser(userId: string): Promise<number>;
}

export interface UserStore {
  get(userId: string): Promise<User | undefined>;
  /** Creates or replaces. */
  put(user: User): Promise<void>;
  /** Applies a patch; false when the user does not exist. */
  update(userId: string, patch: Partial<Omit<User, "id">>): Promise<boolean>;
  delete(userId: string): Promise<boolean>;
  list(): Promise<User[]>;
  count(): Promise<number>;
}

/** A WebAuthn credential (passkey) registered to a user. */
export interface StoredCredential {
  /** base64url credential id. */
  id: string;
  userId: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
  createdAt: number;
  lastUsedAt: number;
  /** Free label, e.g. the authenticator's AAGUID or "passkey". */
  label: string;
  /** The name its owner gave it (account page); unset = named after its authenticator. */
  name?: string | undefined;
}

/** What one verified assertion tells about its credential. */
export interface CredentialUse {
  counter: number;
  usedAt: number;
  deviceType: StoredCredential["deviceType"];
  backedUp: boolean;
}

export interface CredentialStore {
  listByUser(userId: string): Promise<StoredCredential[]>;
  get(credentialId: string): Promise<StoredCredential | undefined>;
  /** Registers a passkey; false (nothing written) when its id is already registered to anyone. */
  add(credential: StoredCredential): Promise<boolean>;
  /**
   * Stores what an assertion reported: the new signature counter, the use time and the backup
   * state (a passkey can become synced after enrollment). false when the credential is gone.
   */
  recordUse(credentialId: string, use: CredentialUse): Promise<boolean>;
  delete(credentialId: string): Promise<boolean>;
  /** Sets the owner's name for a passkey; false when the credential is gone. */
  rename(credentialId: string, name: string): Promise<boolean>;
}

/** Single-use values with a TTL: WebAuthn challenges, enrollment tokens (stored by hash). */
export interface OneTimeStore {
  put(key: string, value: string, ttlMs: number): Promise<void>;
  /** Returns the value and deletes it atomically (GETDEL): a second take gets undefined. */
  take(key: string): Promise<string | undefined>;
  /** Reads the value without consuming it (e.g. to show an enrollment page before it is used). */
  peek(key: string): Promise<string | undefined>;
}

/** Counters with an expiry: failed-attempt regulation, bans, dynamic IP reputation. */
export interface CounterStore {
  /** Adds `by` to the counter and (re)sets its expiry; returns the new value. */
  add(key: string, by: number, ttlMs: number): Promise<number>;
  get(key: string): Promise<number>;
  delete(key: string): Promise<void>;
}

/** Remembers keys for a while: the first claim of a key wins, later ones are replays. */
export interface ReplayGuard {
  /** true the first time a key is claimed within ttl, false afterwards. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Gives a claim back: the work it guarded failed, and a retry of the same message must pass. */
  release(key: string): Promise<void>;
}

/**
 * What Vigil keeps about users who sign in through an OIDC identity provider: which IdP subject
 * owns which Vigil user, which user an IdP session belongs to (back-channel logout), and the
 * groups each IdP gave a user (kept apart from the groups set in Vigil).
 */
export interface FederationStore {
  /**
   * Binds the IdP subject and the Vigil user to each other on their first sign-in through this
   * provider. "subject_taken": the subject already belongs to another user; "user_taken": the
   * user already belongs to another subject of this provider (e.g. a renamed IdP account now
   * claiming someone else's user name).
   */
  bindSubject(
    provider: string,
    subject: string,
    userId: string,
  ): Promise<"ok" | "subject_taken" | "user_taken">;
  userOfSubject(provider: string, subject: string): Promise<string | undefined>;
  /** Remembers which user an IdP session id belongs to, for a logout that names only the sid. */
  rememberSid(provider: string, sid: string, userId: string, ttlMs: number): Promise<void>;
  userOfSid(provider: string, sid: string): Promise<string | undefined>;
  /**
   * Replaces the groups `provider` gave the user, keeping every group set in Vigil itself; the
   * user's groups become (Vigil-set groups) ∪ (this provider's groups). Returns them, or undefined
   * when the user does not exist.
   */
  syncGroups(userId: string, provider: string, groups: readonly string[]): Promise<string[] | undefined>;
}

export interface StoreHealth {
  /** Resolves when the store answers; rejects (or resolves false) when it does not. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
  readonly kind: "redis" | "memory";
}

/** One admin or self-service change: who did what to whom, when, from where, and how it ended. */
export interface AuditRecord {
  /** Epoch ms. */
  at: number;
  /** Who: a user id (console, account page), "admin-token" (API) or "cli:<os user>@<host>". */
  actor: string;
  via: "api" | "cli" | "console" | "account";
  /** What, e.g. suspend, set_groups, delete_passkey, delete_user. */
  action: string;
  /** The user (or "user/session") acted on. */
  target: string;
  /** Client address, "local" for the CLI. */
  ip: string;
  /** "ok" or the refusal's code (e.g. user_not_found). */
  result: string;
  /** Small non-secret details (new groups, sessions revoked); never a link or token. */
  detail?: string | undefined;
}

/** The audit trail: bounded (oldest records dropped past a configured size), newest first. */
export interface AuditLog {
  append(record: AuditRecord): Promise<void>;
  recent(limit: number): Promise<AuditRecord[]>;
}

/** Everything stateful, as one bundle built once in server.ts. */
export interface Stores {
  decisions: DecisionStateReader;
  sessions: SessionStore;
  users: UserStore;
  credentials: CredentialStore;
  oneTime: OneTimeStore;
  counters: CounterStore;
  replay: ReplayGuard;
  federation: FederationStore;
  health: StoreHealth;
  audit: AuditLog;
}

/**
 * Key for the dynamic IP reputation counter in CounterStore; read by the decision script too.
 * Takes a client key (net/client-prefix.ts), so reputation follows the client's network.
 */
export const ipReputationKey = (clientKey: string): string => `iprep:${clientKey}`;

/** Verifies bearer JWTs from configured issuers (signature results cached until exp). */
export interface BearerVerifier {
  /**
   * The token's claims, or undefined when the token is not valid (bad signature, issuer, audience,
   * expiry). Rejects only when verification could not be attempted (e.g. JWKS unreachable).
   */
  verify(token: string, now: number): Promise<import("./core/identity.ts").TokenClaims | undefined>;
}
