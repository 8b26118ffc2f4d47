/**
 * Static verification keys (jwt.issuers[].keys.keys, events.transmitters[].keys.keys): a public
 * JWK or an SPKI PEM. Checked while the config is validated, so a key that could never verify a
 * token stops `vigil check` and the start instead of failing on the first token; the identity
 * layer converts keys with the same function.
 */
import { createPublicKey, type JsonWebKeyInput, type KeyObject } from "node:crypto";

export type StaticKey = Record<string, unknown> | string;
type Jwk = Record<string, unknown>;

/** JWK members that carry private or symmetric key material. */
const SECRET_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "priv"];
/** jose refuses RSA keys shorter than this for every RS and PS algorithm. */
const MIN_RSA_BITS = 2048;

export class StaticKeyError extends Error {
  override name = "StaticKeyError";
}

function publicKeyObject(key: StaticKey): KeyObject {
  if (typeof key === "string") {
    // createPublicKey would derive the public half of a private key: refuse the secret instead.
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
      throw new StaticKeyError("holds a private key: configure only the public key (SPKI PEM)");
    }
    try {
      return createPublicKey(key);
    } catch {
      throw new StaticKeyError("not a public key: the text does not decode as an SPKI PEM");
    }
  }
  if (typeof key.kty !== "string") throw new StaticKeyError("not a public key: a JWK needs kty");
  const secret = SECRET_MEMBERS.find((member) => member in key);
  if (secret !== undefined) {
    const kind = key.kty === "oct" ? "a symmetric key" : "private key material";
    throw new StaticKeyError(`holds ${kind} ("${secret}"): configure only the public key`);
  }
  try {
    return createPublicKey({ key: key as JsonWebKeyInput["key"], format: "jwk" });
  } catch (error) {
    throw new StaticKeyError(`not a public key: invalid ${key.kty} JWK (${(error as Error).message})`);
  }
}

/** The key as a public JWK (a configured JWK is kept as written, with its kid, alg and use). */
export function toPublicJwk(key: StaticKey): Jwk {
  const object = publicKeyObject(key);
  const bits = object.asymmetricKeyDetails?.modulusLength;
  if (object.asymmetricKeyType === "rsa" && bits !== undefined && bits < MIN_RSA_BITS) {
    throw new StaticKeyError(`an RSA key of ${bits} bits: at least ${MIN_RSA_BITS} are needed`);
  }
  if (typeof key !== "string") return key;
  return object.export({ format: "jwk" }) as Jwk;
}

/** Why `key` cannot verify tokens, or undefined when it can. */
export function staticKeyProblem(key: StaticKey): string | undefined {
  try {
    toPublicJwk(key);
    return undefined;
  } catch (error) {
    if (error instanceof StaticKeyError) return error.message;
    throw error;
  }
}
