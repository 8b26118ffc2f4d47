/**
 * The session cookie (`vigil_session`) and the sign-in ceremony cookie, built and read in one
 * place. Values are secrets: never log a Set-Cookie or Cookie header.
 */
import type { Config } from "../config/load.ts";
import { TOKEN_PATTERN } from "./token.ts";

/** The session cookie's name; Traefik's addAuthCookiesToResponse lists it (traefik/, k8s/). */
export const SESSION_COOKIE = "vigil_session";

/** Short-lived, host-only cookie binding a discoverable sign-in's challenge to this browser. */
export const CEREMONY_COOKIE = "vigil_ceremony";

export type CookieConfig = Pick<Config, "cookieSecure" | "cookie" | "session">;

const TOKEN = TOKEN_PATTERN;

function serialise(name: string, value: string, attributes: Array<string | false | undefined>): string {
  return [`${name}=${value}`, ...attributes.filter((a): a is string => typeof a === "string")].join("; ");
}

/** Set-Cookie for a session token: HttpOnly, Secure (unless plain localhost), SameSite, Domain. */
export function sessionCookie(token: string, config: CookieConfig): string {
  return serialise(SESSION_COOKIE, token, [
    "Path=/",
    config.cookie.domain ? `Domain=${config.cookie.domain}` : undefined,
    `Max-Age=${Math.floor(config.session.absolute_timeout / 1000)}`,
    "HttpOnly",
    config.cookieSecure && "Secure",
    `SameSite=${config.cookie.same_site}`,
  ]);
}

/** Set-Cookie that removes the session cookie (same Path and Domain, so the browser matches it). */
export function clearedSessionCookie(config: CookieConfig): string {
  return serialise(SESSION_COOKIE, "", [
    "Path=/",
    config.cookie.domain ? `Domain=${config.cookie.domain}` : undefined,
    "Max-Age=0",
    "HttpOnly",
    config.cookieSecure && "Secure",
    `SameSite=${config.cookie.same_site}`,
  ]);
}

/** Set-Cookie for the sign-in ceremony id: host-only, only sent to /webauthn/, Strict. */
export function ceremonyCookie(id: string, ttlMs: number, config: Pick<Config, "cookieSecure">): string {
  return serialise(CEREMONY_COOKIE, id, [
    "Path=/webauthn/",
    `Max-Age=${Math.max(1, Math.floor(ttlMs / 1000))}`,
    "HttpOnly",
    config.cookieSecure && "Secure",
    "SameSite=Strict",
  ]);
}

export function clearedCeremonyCookie(config: Pick<Config, "cookieSecure">): string {
  return serialise(CEREMONY_COOKIE, "", [
    "Path=/webauthn/",
    "Max-Age=0",
    "HttpOnly",
    config.cookieSecure && "Secure",
    "SameSite=Strict",
  ]);
}

/** The value of cookie `name` when it looks like one of our tokens; anything else is absent. */
export function readCookie(header: string | undefined | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    if (TOKEN.test(value)) return value;
  }
  return undefined;
}

export function readSessionToken(header: string | undefined | null): string | undefined {
  return readCookie(header, SESSION_COOKIE);
}
