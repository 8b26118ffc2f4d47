/**
 * Same-origin check for state-changing portal endpoints (/webauthn/*, POST /logout): the Origin
 * header must be one of the expected origins and Sec-Fetch-Site, when sent, must be same-origin.
 */

export type HeaderReader = (name: string) => string | undefined;

export function isSameOriginRequest(header: HeaderReader, origins: readonly string[]): boolean {
  const origin = header("origin");
  if (origin === undefined || !origins.includes(origin)) return false;
  const site = header("sec-fetch-site");
  return site === undefined || site === "same-origin";
}
