/**
 * Same-origin check for state-changing portal endpoints (/webauthn/*, POST /logout): the Origin
 * header must be one of the expected origins and Sec-Fetch-Site, when sent, must be same-origin.
 */

export type HeaderReader = (name: string) => string | undefined;

export function isSameOriginRequest(header: HeaderReader, origins: readonly string[]): boolean {
  const origin = header("origin");
  const site = header("sec-fetch-site");
  // A form posted from a portal page (Referrer-Policy: no-referrer) carries "Origin: null"; the
  // browser's own Sec-Fetch-Site, which no page can set, then vouches that it is same-origin.
  if (origin === "null") return site === "same-origin";
  if (origin === undefined || !origins.includes(origin)) return false;
  return site === undefined || site === "same-origin";
}
