/**
 * What a verified CAEP event does to Vigil's state. Decisions (documented in docs and tests):
 *
 * Subjects (RFC 9493), from the SET's `sub_id`, else the event's older `subject` member
 * (`format`, or the older draft's `subject_type`), else the SET's plain `sub` (as opaque):
 *   email   → the user whose id is that address (as given, then lower-cased)
 *   account → "acct:" URI, treated like email
 *   iss_sub → when `iss` is a jwt.issuers entry with namespaced subjects: its user `<id>:<sub>`
 *             (never the local user who shares the name; such a user has no sessions or
 *             passkeys, so nothing happens); otherwise (a subjects: local issuer, or the
 *             transmitter speaking of its own users) the local user whose id is `sub`
 *   opaque  → the user whose id is `id`
 *   complex → its `user` member as above; a `session` member with format opaque naming a Vigil
 *             session handle narrows session-revoked to that one session
 * A subject that maps to no Vigil user is not an error: the SET is valid, there is nothing to do
 * (202, result "unknown_subject", one log line).
 *
 * Events (prefix https://schemas.openid.net/secevent/caep/event-type/):
 *   session-revoked        → revoke the subject's sessions (or the one session named).
 *   credential-change      → change_type revoke/delete only. CAEP carries no credential id, so:
 *                            a `credential_id` member (base64url, a Vigil extension) deletes that
 *                            passkey; else `fido2_aaguid` deletes the user's passkeys with that
 *                            AAGUID label; else a fido2/fido-u2f/passkey credential_type deletes all
 *                            of the user's passkeys (which one is unknown; the user re-enrolls).
 *                            Other credential types (password, x509, phone…) are not held by Vigil:
 *                            ignored. When a passkey is deleted, the user's sessions are revoked too
 *                            (a session may have been signed in with it).
 *   assurance-level-change → unless change_direction is "increase", every session of the subject
 *                            gets acr = current_level and stepUpAt = 0: the next request on a stepup
 *                            rule asks for a fresh passkey. An increase is ignored: Vigil's own
 *                            passkey check is what raises a session's acr, so a current_level equal
 *                            to stepup.acr is written as session.signin_acr (backends read
 *                            X-Auth-Acr: a SET must not make it claim a step-up).
 *   anything else          → ignored (202).
 */
import { namespacedUserId } from "../../core/names.ts";
import type { Stores } from "../../ports.ts";

export const CAEP_PREFIX = "https://schemas.openid.net/secevent/caep/event-type/";

export const EventType = {
  sessionRevoked: `${CAEP_PREFIX}session-revoked`,
  credentialChange: `${CAEP_PREFIX}credential-change`,
  assuranceLevelChange: `${CAEP_PREFIX}assurance-level-change`,
} as const;

export type EventResult = "applied" | "ignored" | "unknown_subject";

export interface EventOutcome {
  /** Short label for metrics: session-revoked, credential-change, assurance-level-change, other. */
  type: string;
  result: EventResult;
  user: string | undefined;
  detail: string;
  sessionsRevoked: number;
}

export interface Subject {
  userId: string | undefined;
  sessionId: string | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const str = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

/** Short, bounded label of an event type URI. */
export function eventLabel(type: string): string {
  if (type.startsWith(CAEP_PREFIX)) {
    const name = type.slice(CAEP_PREFIX.length);
    if (
      [
        "session-revoked",
        "credential-change",
        "assurance-level-change",
        "token-claims-change",
        "device-compliance-change",
      ].includes(name)
    )
      return name;
  }
  return "other";
}

/** The issuer id that namespaces the users of `iss` (jwt.issuers with subjects: namespaced), if any. */
export type SubjectNamespaceOf = (iss: string) => string | undefined;

/** SubjectNamespaceOf for the configured bearer-token issuers (exact `iss`, as tokens are matched). */
export function subjectNamespaces(
  issuers: ReadonlyArray<{ id: string; issuer: string; subjects: "namespaced" | "local" }>,
): SubjectNamespaceOf {
  const byIssuer = new Map(issuers.filter((i) => i.subjects === "namespaced").map((i) => [i.issuer, i.id]));
  return (iss) => byIssuer.get(iss);
}

const noNamespaces: SubjectNamespaceOf = () => undefined;

/** The identifier an RFC 9493 subject names (without store lookups): candidate user ids + session. */
export function subjectCandidates(
  subject: unknown,
  namespaceOf: SubjectNamespaceOf = noNamespaces,
): { ids: string[]; sessionId: string | undefined } {
  if (!isObject(subject)) return { ids: [], sessionId: undefined };
  const format = str(subject.format) ?? str(subject.subject_type);
  switch (format) {
    case "email": {
      const email = str(subject.email);
      return { ids: email ? [...new Set([email, email.toLowerCase()])] : [], sessionId: undefined };
    }
    case "account": {
      const uri = str(subject.uri);
      const address = uri?.replace(/^acct:/i, "");
      return { ids: address ? [...new Set([address, address.toLowerCase()])] : [], sessionId: undefined };
    }
    case "iss_sub": {
      const sub = str(subject.sub);
      const iss = str(subject.iss);
      const namespace = iss === undefined ? undefined : namespaceOf(iss);
      const id = sub && namespace ? namespacedUserId(namespace, sub) : sub;
      return { ids: id ? [id] : [], sessionId: undefined };
    }
    case "opaque": {
      const id = str(subject.id);
      return { ids: id ? [id] : [], sessionId: undefined };
    }
    case "complex": {
      const user = subjectCandidates(subject.user, namespaceOf);
      const session = isObject(subject.session) ? subject.session : undefined;
      const sessionId =
        session && (str(session.format) ?? str(session.subject_type)) === "opaque"
          ? str(session.id)
          : undefined;
      return { ids: user.ids, sessionId };
    }
    default:
      return { ids: [], sessionId: undefined };
  }
}

/** The subject object of one event: SET `sub_id`, else the event's `subject`, else SET `sub`. */
export function eventSubject(payload: Record<string, unknown>, event: Record<string, unknown>): unknown {
  if (isObject(payload.sub_id)) return payload.sub_id;
  if (isObject(event.subject)) return event.subject;
  if (typeof payload.sub === "string") return { format: "opaque", id: payload.sub };
  return undefined;
}

/** Structural check done BEFORE the jti is claimed, so a malformed SET can be corrected and resent. */
export function validateEvent(
  type: string,
  event: Record<string, unknown>,
  payload: Record<string, unknown>,
) {
  const known = Object.values(EventType) as string[];
  if (!known.includes(type)) return undefined;
  const subject = eventSubject(payload, event);
  if (subject === undefined) return `event ${eventLabel(type)} has no subject (sub_id or subject)`;
  if (subjectCandidates(subject).ids.length === 0) {
    return `unsupported subject: formats email, account, iss_sub, opaque and complex are understood`;
  }
  if (type === EventType.assuranceLevelChange && str(event.current_level) === undefined) {
    return "assurance-level-change needs current_level";
  }
  if (type === EventType.credentialChange && str(event.change_type) === undefined) {
    return "credential-change needs change_type";
  }
  return undefined;
}

const FIDO_TYPES = /^(fido|passkey|webauthn)/i;

export interface EventApplierOptions {
  namespaceOf?: SubjectNamespaceOf;
  /** acr only a passkey step-up grants (stepup.acr); never written by an event. */
  stepUpAcr?: string;
  /** acr written instead of stepUpAcr: what a signed-in session holds (session.signin_acr). */
  signInAcr?: string;
}

export function createEventApplier(
  stores: Pick<Stores, "users" | "sessions" | "credentials">,
  { namespaceOf = noNamespaces, stepUpAcr = "phr", signInAcr = "passkey" }: EventApplierOptions = {},
) {
  async function resolve(subject: unknown): Promise<Subject> {
    const { ids, sessionId } = subjectCandidates(subject, namespaceOf);
    for (const id of ids) {
      if (await stores.users.get(id)) return { userId: id, sessionId };
    }
    return { userId: undefined, sessionId };
  }

  return async function applyEvent(
    type: string,
    event: Record<string, unknown>,
    payload: Record<string, unknown>,
  ): Promise<EventOutcome> {
    const label = eventLabel(type);
    const outcome = (result: EventResult, user: string | undefined, detail: string, sessionsRevoked = 0) => ({
      type: label,
      result,
      user,
      detail,
      sessionsRevoked,
    });
    const known = Object.values(EventType) as string[];
    if (!known.includes(type)) return outcome("ignored", undefined, "event type not handled");

    const { userId, sessionId } = await resolve(eventSubject(payload, event));
    if (!userId) return outcome("unknown_subject", undefined, "the subject is not a Vigil user");

    if (type === EventType.sessionRevoked) {
      if (sessionId) {
        const session = await stores.sessions.get(sessionId);
        if (session && session.userId === userId) {
          const deleted = (await stores.sessions.delete(sessionId)) ? 1 : 0;
          return outcome("applied", userId, "one session revoked", deleted);
        }
      }
      const count = await stores.sessions.deleteByUser(userId);
      return outcome("applied", userId, `${count} session(s) revoked`, count);
    }

    if (type === EventType.credentialChange) {
      const change = str(event.change_type);
      if (change !== "revoke" && change !== "delete")
        return outcome("ignored", userId, `change_type ${change}`);
      const credentials = await stores.credentials.listByUser(userId);
      const credentialId = str(event.credential_id);
      const aaguid = str(event.fido2_aaguid)?.toLowerCase();
      const credentialType = str(event.credential_type) ?? "";
      let targets: string[];
      if (credentialId) targets = credentials.filter((c) => c.id === credentialId).map((c) => c.id);
      else if (aaguid) targets = credentials.filter((c) => c.label.toLowerCase() === aaguid).map((c) => c.id);
      else if (FIDO_TYPES.test(credentialType)) targets = credentials.map((c) => c.id);
      else
        return outcome(
          "ignored",
          userId,
          `credential_type ${credentialType || "(none)"} is not held by Vigil`,
        );
      let deleted = 0;
      for (const id of targets) if (await stores.credentials.delete(id)) deleted += 1;
      if (deleted === 0) return outcome("ignored", userId, "no matching passkey");
      const count = await stores.sessions.deleteByUser(userId);
      return outcome("applied", userId, `${deleted} passkey(s) deleted, ${count} session(s) revoked`, count);
    }

    // assurance-level-change
    if (str(event.change_direction) === "increase") return outcome("ignored", userId, "assurance increased");
    const stated = str(event.current_level) ?? "";
    const level = stated === stepUpAcr ? signInAcr : stated;
    const sessions = await stores.sessions.listByUser(userId);
    let lowered = 0;
    for (const session of sessions) {
      if (await stores.sessions.update(session.id, { acr: level, stepUpAt: 0 })) lowered += 1;
    }
    return outcome("applied", userId, `acr lowered to ${level} on ${lowered} session(s)`);
  };
}
