/** Request bodies of the /webauthn/* endpoints, validated before anything touches them. */
import { z } from "zod";

const b64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*={0,2}$/, "must be base64url");

const assertion = z.looseObject({
  id: b64url.min(1).max(1024),
  rawId: b64url.min(1).max(1024),
  type: z.literal("public-key"),
  response: z.looseObject({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.optional(),
  }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
});

const attestation = z.looseObject({
  id: b64url.min(1).max(1024),
  rawId: b64url.min(1).max(1024),
  type: z.literal("public-key"),
  response: z.looseObject({
    clientDataJSON: b64url,
    attestationObject: b64url,
    transports: z.array(z.string().max(32)).max(16).optional(),
  }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
});

const rd = z.string().max(4096).optional();
const token = z.string().max(128);

export const registerOptionsBody = z.object({ token });
export const registerVerifyBody = z.object({ token, response: attestation, rd });
export const addPasskeyVerifyBody = z.object({ response: attestation });
export const assertionOptionsBody = z.object({}).loose();
export const assertionVerifyBody = z.object({ response: assertion, rd });

export type AssertionBody = z.infer<typeof assertionVerifyBody>;
export type RegisterVerifyBody = z.infer<typeof registerVerifyBody>;
