/**
 * A user agent without a renderer: fetch with a cookie jar that keeps cookies per domain and path
 * as RFC 6265 says (host-only or Domain=, Path= or the default path, Max-Age/Expires). SameSite and
 * Secure are not modelled: every request is a top-level, same-site one over plain HTTP. For flows
 * made of redirects and plain HTML forms, such as a sign-in at the test IdP, where starting
 * Chromium would only add cost; the browser journeys themselves run in Chromium.
 */

interface StoredCookie {
  name: string;
  value: string;
  /** The cookie's domain, without a leading dot. */
  domain: string;
  /** No Domain attribute: sent to exactly the host that set it. */
  hostOnly: boolean;
  path: string;
  /** Epoch ms; undefined for a session cookie. */
  expiresAt?: number;
}

/** RFC 6265 §5.1.4: the directory of the request path, as the default cookie path. */
function defaultPath(url: URL): string {
  const slash = url.pathname.lastIndexOf("/");
  return slash <= 0 ? "/" : url.pathname.slice(0, slash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}

/** RFC 6265 §5.1.3: `host` is `domain` or inside it. */
function inDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

function domainMatches(host: string, cookie: StoredCookie): boolean {
  return cookie.hostOnly ? host === cookie.domain : inDomain(host, cookie.domain);
}

export class CookieAgent {
  private readonly jar = new Map<string, StoredCookie>();

  /** One request as a browser would send it (its cookies, no redirect followed); stores what it sets. */
  async fetch(url: URL | string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    headers.set("accept", headers.get("accept") ?? "text/html,application/xhtml+xml");
    const cookie = this.cookieHeader(target);
    if (cookie) headers.set("cookie", cookie);
    const response = await fetch(target, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) this.store(target, line);
    return response;
  }

  /** Sets a cookie for `url`'s host, as a test's stand-in for one a server set earlier. */
  setCookie(url: string, name: string, value: string): void {
    const target = new URL(url);
    this.put({ name, value, domain: target.hostname, hostOnly: true, path: "/" });
  }

  /** The value of `name` that a request to `url` would carry. */
  cookie(url: string, name: string): string | undefined {
    return this.matching(new URL(url)).find((c) => c.name === name)?.value;
  }

  clearCookies(): void {
    this.jar.clear();
  }

  private store(url: URL, line: string): void {
    const parsed = Bun.Cookie.parse(line);
    const domain = parsed.domain ? parsed.domain.replace(/^\./, "").toLowerCase() : url.hostname;
    const hostOnly = !parsed.domain;
    // A Domain the setting host is not inside is ignored, as a browser ignores it (§5.3 step 6).
    if (!hostOnly && !inDomain(url.hostname, domain)) return;
    // Bun.Cookie.parse reports "/" for a missing or relative Path: read the attribute itself.
    const path = /;\s*path=(\/[^;]*)/i.exec(line)?.[1]?.trim() ?? defaultPath(url);
    const cookie: StoredCookie = { name: parsed.name, value: parsed.value, domain, hostOnly, path };
    if (parsed.maxAge !== undefined) cookie.expiresAt = Date.now() + parsed.maxAge * 1000;
    else if (parsed.expires !== undefined) cookie.expiresAt = new Date(parsed.expires).getTime();
    this.put(cookie);
  }

  private put(cookie: StoredCookie): void {
    const key = `${cookie.domain}|${cookie.path}|${cookie.name}`;
    if (cookie.expiresAt !== undefined && cookie.expiresAt <= Date.now()) this.jar.delete(key);
    else this.jar.set(key, cookie);
  }

  private matching(url: URL): StoredCookie[] {
    const now = Date.now();
    return [...this.jar.values()]
      .filter((c) => (c.expiresAt === undefined || c.expiresAt > now) && domainMatches(url.hostname, c))
      .filter((c) => pathMatches(url.pathname, c.path))
      .sort((x, y) => y.path.length - x.path.length);
  }

  private cookieHeader(url: URL): string {
    return this.matching(url)
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }
}
