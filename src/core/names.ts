/**
 * Name rules shared by config validation, the user store's writers, token trust and the identity
 * headers. Pure.
 *
 * Identities from bearer-token issuers that do not name local users are written
 * `<issuer id>:<sub>`. Issuer ids and local user ids never contain `:`, so such an identity can
 * neither equal a local user id nor one from another issuer.
 */

/** Separates an issuer's id from the token's `sub` in a namespaced identity. */
export const NAMESPACE_SEPARATOR = ":";

/** An issuer's id in config: lower-case letters, digits, `.`, `_`, `-`; never the separator. */
export const ISSUER_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * One item of a comma-separated identity header (X-Auth-Groups, X-Auth-Amr): printable ASCII
 * without space or comma, so the list splits back into exactly the items that were joined.
 */
export const HEADER_LIST_ITEM = /^[\x21-\x2b\x2d-\x7e]{1,128}$/;

/**
 * A token's `sub` as Vigil accepts it: 1-255 printable ASCII characters (OpenID Connect Core
 * §2), no leading or trailing space (a proxy would trim it off the X-Auth-User header and two
 * subjects would read the same).
 */
export const TOKEN_SUBJECT = /^(?! )[\x20-\x7e]{1,255}(?<! )$/;

/**
 * A new local user id: 1-256 printable ASCII characters, no leading or trailing space, never the
 * separator. X-Auth-User carries it exactly: a non-ASCII or invisible character would reach the
 * backend as a stand-in shared with another id, and surrounding spaces would be trimmed away.
 */
const LOCAL_USER_ID = /^(?! )[\x20-\x39\x3b-\x7e]{1,256}(?<! )$/;

/** The rule for new local user ids, in words (for error messages). */
export const LOCAL_USER_ID_RULE =
  "1-256 printable ASCII characters, without ':' or leading or trailing spaces";

/** Whether `id` may name a new local user (see LOCAL_USER_ID). */
export function isLocalUserId(id: string): boolean {
  return LOCAL_USER_ID.test(id);
}

/** The identity of a token's subject from an issuer that does not name local users. */
export function namespacedUserId(issuerId: string, sub: string): string {
  return `${issuerId}${NAMESPACE_SEPARATOR}${sub}`;
}
