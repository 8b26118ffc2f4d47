/**
 * What every portal handler shares: its dependencies, the relying party, regulation, the client's
 * address and user-agent baseline, the current session, and the secure page/JSON answers.
 */
import type { Context } from "hono";
import type { Session } from "../../core/types.ts";
import { clientKey } from "../../net/client-prefix.ts";
import { hashUserAgent } from "../../risk/user-agent-hash.ts";
import { readSessionToken } from "../../session/cookie.ts";
import { sessionIdFromToken } from "../../session/token.ts";
import type { RelyingParty } from "../../webauthn/registration.ts";
import type { AppDeps, AppEnv } from "../app-env.ts";
import { clientAddress } from "../forward-auth/request.ts";
import type { PortalAsset } from "./assets.ts";
import { Regulation } from "./regulation.ts";
import { type AllowedReturnHosts, safeReturnUrl } from "./return-url.ts";

export type PortalDeps = Pick<
  AppDeps,
  "config" | "stores" | "policy" | "geo" | "isTrustedProxy" | "clock" | "logger" | "metrics" | "oidc"
>;

export type PortalContext = Context<AppEnv>;

export interface Portal {
  deps: PortalDeps;
  rp: RelyingParty;
  regulation: Regulation;
  /** The bundled ceremony script (built once, at registration). */
  asset: Promise<PortalAsset>;
}

export function createPortal(deps: PortalDeps, asset: Promise<PortalAsset>): Portal {
  const { config } = deps;
  return {
    deps,
    rp: {
      rpId: config.rpId,
      rpName: config.webauthn.rp_name,
      origins: expectedOrigins(config),
      timeoutMs: config.webauthn.challenge_ttl,
    },
    regulation: new Regulation(deps.stores.counters, config),
    asset,
  };
}

export function expectedOrigins(config: PortalDeps["config"]): string[] {
  return [
    ...new Set([config.publicOrigin, ...config.webauthn.origins.map((origin) => new URL(origin).origin)]),
  ];
}

export function allowedReturnHosts(deps: PortalDeps): AllowedReturnHosts {
  return {
    publicOrigin: deps.config.publicOrigin,
    cookieDomain: deps.config.cookie.domain,
    protectedHosts: deps.config.protected_hosts,
    policyHosts: deps.policy.current().rules.flatMap((rule) => rule.hostPatterns),
  };
}

export function returnUrl(deps: PortalDeps, rd: unknown): string {
  return safeReturnUrl(typeof rd === "string" ? rd : undefined, allowedReturnHosts(deps));
}

export interface Client {
  ip: string;
  /** The client's network (net/client-prefix.ts): what regulation counts and bans. */
  key: string;
  country: string;
  uaHash: string;
}

/** The client's address (through trusted proxies), country and user-agent hash; undefined when unparseable. */
export function clientOf(c: PortalContext, deps: PortalDeps): Client | undefined {
  const address = clientAddress(c.env?.peer ?? "", c.req.header("x-forwarded-for"), deps.isTrustedProxy);
  if (!address.ok) return undefined;
  return {
    ip: address.value,
    key: clientKey(address.value, deps.config.client_prefix),
    country: deps.geo(address.value)?.country ?? "",
    uaHash: hashUserAgent(c.req.header("user-agent") ?? ""),
  };
}

/** The session the request's cookie names, when it is live. */
export async function currentSession(c: PortalContext, deps: PortalDeps): Promise<Session | undefined> {
  const token = readSessionToken(c.req.header("cookie"));
  if (token === undefined) return undefined;
  const session = await deps.stores.sessions.get(sessionIdFromToken(token));
  if (session === undefined) return undefined;
  const now = deps.clock();
  if (now - session.createdAt > deps.config.session.absolute_timeout) return undefined;
  if (now - session.lastSeenAt > deps.config.session.idle_timeout) return undefined;
  return session;
}

const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

/** JSON error: {error, message}, never cached. */
export function jsonError(
  c: PortalContext,
  status: 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 429 | 431 | 500 | 503,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return c.json({ error, message }, status, { ...NO_STORE, ...headers });
}

export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64");
}

/** Security headers for every portal page; the CSP allows only this response's nonce. */
export function pageHeaders(nonce: string): Record<string, string> {
  return {
    ...NO_STORE,
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "img-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; "),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
  };
}

export async function renderPage(
  nonce: string,
  /** A rendered hono/jsx element (a component's result). */
  page: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Promise<Response> {
  if (page === null || page === undefined) throw new Error("renderPage: nothing to render");
  const html = await (page as { toString(): string | Promise<string> }).toString();
  return new Response(`<!doctype html>${html}`, {
    status,
    headers: { ...pageHeaders(nonce), ...headers },
  });
}
