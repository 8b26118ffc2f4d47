/**
 * Same-origin check for state-changing portal endpoints (/webauthn/*, POST /logout), one rule for
 * the pages' fetches and their plain form posts alike:
 * - Sec-Fetch-Site, when sent, must be "same-origin" (a browser sets it and no page can forge it;
 *   "same-site" is refused too: a sibling subdomain is another application);
 * - an Origin that names an origin must be one of the portal's;
 * - without a usable Origin (absent, or "null", which a browser sends for a form post when a
 *   referrer policy hides the origin), only Sec-Fetch-Site: same-origin vouches for the request.
 * The pages send `Referrer-Policy: same-origin`, so browsers include their Origin on same-origin
 * posts and reveal nothing to other origins.
 */

export type HeaderReader = (name: string) => string | undefined;

export function isSameOriginRequest(header: HeaderReader, origins: readonly string[]): boolean {
  const site = header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin") return false;
  const origin = header("origin");
  if (origin !== undefined && origin !== "null") return origins.includes(origin);
  return site === "same-origin";
}
