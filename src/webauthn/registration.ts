/**
 * Passkey registration (enrollment) around @simplewebauthn/server: options for the browser, then
 * verification of its answer into a StoredCredential. User verification is required, attestation
 * is "none", and a discoverable credential (resident key) is required so sign-in needs no user name.
 */
import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import type { User } from "../core/types.ts";
import type { StoredCredential } from "../ports.ts";
import { userHandleBytes } from "./user-handle.ts";

export interface RelyingParty {
  rpId: string;
  rpName: string;
  /** Every origin the browser may report (public origin + configured extras). */
  origins: string[];
  timeoutMs: number;
}

export async function registrationOptions(
  rp: RelyingParty,
  user: Pick<User, "id" | "displayName">,
  existing: readonly StoredCredential[],
  challenge: string,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpId,
    userName: user.id,
    userID: userHandleBytes(user.id),
    userDisplayName: user.displayName,
    challenge: Buffer.from(challenge, "base64url"),
    timeout: rp.timeoutMs,
    attestationType: "none",
    excludeCredentials: existing.map((credential) => ({
      id: credential.id,
      transports: credential.transports,
    })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
}

export type RegistrationResult = { ok: true; credential: StoredCredential } | { ok: false; reason: string };

/** Verifies a registration response; never throws (a refusal comes back with a reason). */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  expectedChallenge: string,
  userId: string,
  now: number,
): Promise<RegistrationResult> {
  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
      requireUserPresence: true,
    });
  } catch (error) {
    return { ok: false, reason: classify(error) };
  }
  if (!verified.verified) return { ok: false, reason: "not_verified" };
  const info = verified.registrationInfo;
  return {
    ok: true,
    credential: {
      id: info.credential.id,
      userId,
      publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
      counter: info.credential.counter,
      transports: [...(info.credential.transports ?? response.response.transports ?? [])],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      createdAt: now,
      lastUsedAt: now,
      label: info.aaguid === "00000000-0000-0000-0000-000000000000" ? "passkey" : info.aaguid,
    },
  };
}

/** A short, log-safe reason for a refused ceremony (no challenge or origin values in it). */
export function classify(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/challenge/i.test(message)) return "challenge_mismatch";
  if (/origin/i.test(message)) return "origin_mismatch";
  if (/rp ?id/i.test(message)) return "rpid_mismatch";
  if (/user verification|user could not be verified/i.test(message)) return "user_not_verified";
  if (/counter/i.test(message)) return "counter_not_increased";
  if (/signature/i.test(message)) return "bad_signature";
  if (/type/i.test(message)) return "wrong_type";
  return "invalid_response";
}
