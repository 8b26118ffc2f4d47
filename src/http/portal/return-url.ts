/**
 * `rd` (the return URL after sign-in or step-up) is an open-redirect vector. Pure: accepts only an
 * absolute http(s) URL whose host the configuration knows; anything else falls back to the portal.
 */

export interface AllowedReturnHosts {
  /** Portal origin, e.g. https://auth.example.com; also the fallback. */
  publicOrigin: string;
  /** Cookie domain (the domain and every subdomain are allowed), without a leading dot. */
  cookieDomain: string | undefined;
  /** config protected_hosts: exact names or "*.suffix". */
  protectedHosts: readonly string[];
  /** Policy rules' host patterns: exact names or "*.suffix". */
  policyHosts: readonly string[];
}

const MAX_LENGTH = 4096;
// Control characters, whitespace, backslashes: browsers "fix" these in ways parsers disagree on.
const FORBIDDEN =
  /[\u0000-\u0020\u007f-\u009f\\\u00a0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]/;
const SCHEME = /^https?:\/\/[^/]/i;
const HOST_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

const isLocalhost = (host: string) => host === "localhost" || host.endsWith(".localhost");

function normaliseHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, "");
}

/** Exact name or "*.suffix" (one or more labels before the suffix). */
function matchesPattern(host: string, rawPattern: string): boolean {
  const pattern = normaliseHost(rawPattern);
  if (pattern.startsWith("*.")) {
    const suffix = pattern.slice(1);
    return suffix.length > 1 && !suffix.includes("*") && host.endsWith(suffix) && host.length > suffix.length;
  }
  return pattern !== "" && !pattern.includes("*") && host === pattern;
}

/** True when `host` (normalised) is one the configuration knows. */
export function isAllowedReturnHost(host: string, allowed: AllowedReturnHosts): boolean {
  const portalHost = new URL(allowed.publicOrigin).hostname.toLowerCase();
  if (host === portalHost) return true;
  const domain = allowed.cookieDomain ? normaliseHost(allowed.cookieDomain.replace(/^\./, "")) : "";
  if (domain !== "" && (host === domain || host.endsWith(`.${domain}`))) return true;
  return (
    allowed.protectedHosts.some((pattern) => matchesPattern(host, pattern)) ||
    allowed.policyHosts.some((pattern) => matchesPattern(host, pattern))
  );
}

/** The URL to send the browser to: `rd` normalised when it is safe, else `${publicOrigin}/`. */
export function safeReturnUrl(rd: string | null | undefined, allowed: AllowedReturnHosts): string {
  const fallback = `${allowed.publicOrigin}/`;
  if (typeof rd !== "string" || rd.length === 0 || rd.length > MAX_LENGTH) return fallback;
  if (FORBIDDEN.test(rd) || !SCHEME.test(rd)) return fallback;
  // The authority as written: no userinfo, no percent-encoding, no odd characters.
  const afterScheme = rd.slice(rd.indexOf("//") + 2);
  const authority = afterScheme.split(/[/?#]/, 1)[0] ?? "";
  if (!/^[A-Za-z0-9.-]+(?::\d{1,5})?$/.test(authority)) return fallback;
  let url: URL;
  try {
    url = new URL(rd);
  } catch {
    return fallback;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return fallback;
  if (url.username !== "" || url.password !== "") return fallback;
  const host = normaliseHost(url.hostname);
  if (!HOST_NAME.test(host)) return fallback;
  if (url.protocol === "http:" && !isLocalhost(host)) return fallback;
  if (!isAllowedReturnHost(host, allowed)) return fallback;
  return url.href;
}
