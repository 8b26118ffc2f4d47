/** Identity sources besides the session cookie: bearer JWTs from configured issuers. */
export { createBearerVerifier, stringList, toTokenClaims } from "./bearer.ts";
export { createKeyResolver, KeysUnavailableError, verifyJwt } from "./key-source.ts";
