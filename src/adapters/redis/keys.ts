/**
 * The Redis key layout, in one place. Every key starts with the configured prefix (default
 * "vigil:"), so several deployments or test runs can share one server.
 */
export interface KeyLayout {
  session(sessionId: string): string;
  userSessions(userId: string): string;
  /** userSessions(id) === userSessionsPrefix + id (scripts build these keys themselves). */
  userSessionsPrefix: string;
  user(userId: string): string;
  userPrefix: string;
  sessionPrefix: string;
  /** The set of all user ids. */
  users(): string;
  credential(credentialId: string): string;
  userCredentials(userId: string): string;
  userCredentialsPrefix: string;
  once(key: string): string;
  counter(key: string): string;
  replay(key: string): string;
  /**
   * Hash of one rate window's counters, fields "<scope>:<id>" (scope "session", "user", "ip").
   * rateWindow(w) === ratePrefix + w (the decision script builds these).
   */
  rateWindow(windowIndex: number): string;
  ratePrefix: string;
}

export function keyLayout(prefix: string): KeyLayout {
  return {
    sessionPrefix: `${prefix}session:`,
    userSessionsPrefix: `${prefix}user-sessions:`,
    userPrefix: `${prefix}user:`,
    userCredentialsPrefix: `${prefix}user-creds:`,
    ratePrefix: `${prefix}rate:`,
    session: (sessionId) => `${prefix}session:${sessionId}`,
    userSessions: (userId) => `${prefix}user-sessions:${userId}`,
    user: (userId) => `${prefix}user:${userId}`,
    users: () => `${prefix}users`,
    credential: (credentialId) => `${prefix}cred:${credentialId}`,
    userCredentials: (userId) => `${prefix}user-creds:${userId}`,
    once: (key) => `${prefix}once:${key}`,
    counter: (key) => `${prefix}ctr:${key}`,
    replay: (key) => `${prefix}replay:${key}`,
    rateWindow: (windowIndex) => `${prefix}rate:${windowIndex}`,
  };
}
