/**
 * WebAuthn challenges: random, stored server-side in the OneTimeStore under a key bound to one
 * ceremony (a session, a sign-in ceremony id, or an enrollment token hash), short TTL, and taken
 * with GETDEL before verification so each is usable once, even when verification fails.
 * Challenges are secrets for their lifetime: never log them.
 */
import type { OneTimeStore } from "../ports.ts";

export type CeremonyKind = "register" | "login" | "stepup";

/** What a stored challenge remembers about its ceremony. */
export interface ChallengeRecord {
  challenge: string;
  /** The user the ceremony is for; undefined for discoverable sign-in. */
  userId: string | undefined;
}

const CHALLENGE_BYTES = 32;

export function newChallenge(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(CHALLENGE_BYTES))).toString("base64url");
}

/** A random id for a ceremony that has no session yet (sign-in); kept in its own cookie. */
export function newCeremonyId(): string {
  return newChallenge();
}

export function challengeKey(kind: CeremonyKind, binding: string): string {
  return `webauthn:${kind}:${binding}`;
}

export async function storeChallenge(
  store: OneTimeStore,
  kind: CeremonyKind,
  binding: string,
  record: ChallengeRecord,
  ttlMs: number,
): Promise<void> {
  await store.put(challengeKey(kind, binding), JSON.stringify(record), ttlMs);
}

/** Takes (and so deletes) the challenge of a ceremony; undefined when absent, expired or malformed. */
export async function takeChallenge(
  store: OneTimeStore,
  kind: CeremonyKind,
  binding: string,
): Promise<ChallengeRecord | undefined> {
  const raw = await store.take(challengeKey(kind, binding));
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<ChallengeRecord>;
    if (typeof value.challenge !== "string" || value.challenge === "") return undefined;
    return {
      challenge: value.challenge,
      userId: typeof value.userId === "string" ? value.userId : undefined,
    };
  } catch {
    return undefined;
  }
}
