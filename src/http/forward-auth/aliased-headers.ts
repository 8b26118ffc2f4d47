/**
 * Client-sent spellings of Vigil's identity headers that are not the exact dashed name, such as
 * X_Auth_User or X.Auth.User. Traefik removes the client's copies only of the exact names listed
 * in authResponseHeaders, so these reach the backend, where CGI, PHP, WSGI, nginx
 * ($http_x_auth_user) and some frameworks read them as X-Auth-User. Traefik releases before
 * v3.6.20 cannot drop them at the entry point, so Vigil refuses any request that carries one.
 */
import { AUTH_RESPONSE_HEADERS } from "./headers.ts";

const IDENTITY_NAMES: ReadonlySet<string> = new Set(AUTH_RESPONSE_HEADERS.map((name) => name.toLowerCase()));
const SHORTEST = Math.min(...[...IDENTITY_NAMES].map((name) => name.length));
const LONGEST = Math.max(...[...IDENTITY_NAMES].map((name) => name.length));

/** The name as a backend that folds every separator (`_`, `.`, …) and case together would see it. */
const folded = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, "-");

/** The first header whose name aliases an identity header without being it, or undefined. */
export function aliasedIdentityHeader(headers: Headers): string | undefined {
  for (const name of headers.keys()) {
    // Cheap filter first: this runs on every decision and almost every name is of another length.
    if (name.length < SHORTEST || name.length > LONGEST) continue;
    const lower = name.toLowerCase();
    if (IDENTITY_NAMES.has(lower)) continue; // the exact name: Traefik replaces it on an allow
    if (IDENTITY_NAMES.has(folded(lower))) return name;
  }
  return undefined;
}
