/**
 * Passkey assertions (sign-in and step-up) around @simplewebauthn/server. SimpleWebAuthn checks
 * the cryptography, challenge, origin, RP ID and flags; Vigil checks what it does not: that the
 * credential belongs to the expected user (step-up) and that the user handle matches, and that the
 * signature counter moves forward (a non-zero counter that does not increase = cloned authenticator).
 */
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
} from "@simplewebauthn/server";
import type { CredentialUse, StoredCredential } from "../ports.ts";
import { classify, type RelyingParty } from "./registration.ts";
import { userHandle } from "./user-handle.ts";

export async function authenticationOptions(
  rp: RelyingParty,
  challenge: string,
  /** undefined = discoverable sign-in (the authenticator offers its passkeys for this RP). */
  allow: readonly StoredCredential[] | undefined,
  userVerification: "required" | "preferred",
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.rpId,
    challenge: Buffer.from(challenge, "base64url"),
    timeout: rp.timeoutMs,
    userVerification,
    allowCredentials: allow?.map((credential) => ({ id: credential.id, transports: credential.transports })),
  });
}

export interface VerifiedAssertion {
  credential: StoredCredential;
  newCounter: number;
  userVerified: boolean;
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
}

export type AssertionResult = { ok: true; value: VerifiedAssertion } | { ok: false; reason: string };

export interface AssertionExpectations {
  challenge: string;
  /** The stored credential the response names (looked up by response.id). */
  credential: StoredCredential;
  /** Step-up: the signed-in user; the credential must be theirs. */
  userId: string | undefined;
  requireUserVerification: boolean;
}

/** Verifies an assertion; never throws (a refusal comes back with a short, log-safe reason). */
export async function verifyAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  expected: AssertionExpectations,
): Promise<AssertionResult> {
  const { credential } = expected;
  if (response.id !== credential.id || response.rawId !== credential.id) {
    return { ok: false, reason: "credential_mismatch" };
  }
  if (expected.userId !== undefined && credential.userId !== expected.userId) {
    return { ok: false, reason: "foreign_credential" };
  }
  const handle = response.response.userHandle;
  if (handle !== undefined && handle !== "" && handle !== userHandle(credential.userId)) {
    return { ok: false, reason: "user_handle_mismatch" };
  }
  let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      credential: {
        id: credential.id,
        publicKey: new Uint8Array(Buffer.from(credential.publicKey, "base64url")),
        counter: credential.counter,
        transports: credential.transports,
      },
      requireUserVerification: expected.requireUserVerification,
    });
  } catch (error) {
    return { ok: false, reason: classify(error) };
  }
  if (!result.verified) return { ok: false, reason: "not_verified" };
  const info = result.authenticationInfo;
  // SimpleWebAuthn refuses this too; checked here as well because it is Vigil's clone detection.
  if ((info.newCounter > 0 || credential.counter > 0) && info.newCounter <= credential.counter) {
    return { ok: false, reason: "counter_not_increased" };
  }
  if (expected.requireUserVerification && !info.userVerified) {
    return { ok: false, reason: "user_not_verified" };
  }
  return {
    ok: true,
    value: {
      credential,
      newCounter: info.newCounter,
      userVerified: info.userVerified,
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
    },
  };
}

/** What a verified assertion tells the credential store: counter, time, backup state. */
export function credentialUse(assertion: VerifiedAssertion, usedAt: number): CredentialUse {
  return {
    counter: assertion.newCounter,
    usedAt,
    deviceType: assertion.deviceType,
    backedUp: assertion.backedUp,
  };
}

/** amr for a verified passkey assertion (RFC 8176): key kind, presence, and mfa when UV was verified. */
export function assertionAmr(assertion: Pick<VerifiedAssertion, "deviceType" | "userVerified">): string[] {
  const amr = [assertion.deviceType === "multiDevice" ? "swk" : "hwk", "user"];
  if (assertion.userVerified) amr.push("mfa");
  return amr;
}
