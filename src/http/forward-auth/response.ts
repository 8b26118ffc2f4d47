/**
 * Turns a Decision into the HTTP answer Traefik (or Caddy, nginx) acts on. Browsers get redirects
 * and small pages; API clients get RFC 9470 / RFC 6750 challenges and JSON. Every answer is
 * no-store: a cached allow would outlive a revocation.
 */
import type { Decision, RequestFacts } from "../../core/types.ts";
import { headerList } from "./headers.ts";

export interface ResponseSettings {
  /** Portal origin, e.g. https://auth.example.com */
  publicOrigin: string;
}

const NO_STORE = "no-store";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** Header values must stay single-line ASCII: identity data comes from the store, not the client, but be strict. */
const headerSafe = (text: string) => text.replace(/[^\x20-\x7e]/g, "?");

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": NO_STORE, ...headers },
  });
}

function page(
  status: number,
  title: string,
  message: string,
  reason: string,
  headers: Record<string, string> = {},
) {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem">
<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p><small>Reason: <code>${escapeHtml(reason)}</code></small></p>
</body></html>`;
  return new Response(html, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": NO_STORE,
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
      ...headers,
    },
  });
}

function portalRedirect(
  settings: ResponseSettings,
  route: "login" | "stepup",
  facts: RequestFacts,
  via?: "passkey" | "idp",
): Response {
  const only = via === undefined ? "" : `&via=${via}`;
  const location = `${settings.publicOrigin}/${route}?rd=${encodeURIComponent(facts.originalUrl)}${only}`;
  return new Response(null, { status: 302, headers: { location, "cache-control": NO_STORE } });
}

const quote = (text: string) => `"${text.replace(/["\\]/g, "")}"`;

export function toResponse(decision: Decision, facts: RequestFacts, settings: ResponseSettings): Response {
  const reason = decision.reasons[0] ?? "unknown";
  switch (decision.kind) {
    case "allow": {
      const headers: Record<string, string> = { "cache-control": NO_STORE, "x-auth-rule": decision.rule };
      const identity = decision.identity;
      if (identity) {
        headers["x-auth-user"] = headerSafe(identity.userId);
        headers["x-auth-groups"] = headerList(identity.groups);
        headers["x-auth-acr"] = headerSafe(identity.acr);
        headers["x-auth-amr"] = headerList(identity.amr);
        headers["x-auth-risk"] = String(decision.risk.score);
      }
      return new Response(null, { status: 200, headers });
    }
    case "login":
      if (facts.isBrowser) return portalRedirect(settings, "login", facts);
      return json(
        401,
        { error: "unauthorized", reason },
        {
          "www-authenticate": `Bearer realm="vigil", error_description=${quote(`sign-in required (${reason})`)}`,
        },
      );
    case "stepup":
      if (facts.isBrowser) return portalRedirect(settings, "stepup", facts, decision.via);
      return json(
        401,
        {
          error: "insufficient_user_authentication",
          reason,
          acr_values: decision.acrValues,
          max_age: decision.maxAgeSec,
        },
        {
          "www-authenticate":
            `Bearer realm="vigil", error="insufficient_user_authentication", ` +
            `error_description=${quote(`a fresh passkey check is required (${reason})`)}, ` +
            `acr_values=${quote(decision.acrValues)}, max_age="${decision.maxAgeSec}"`,
        },
      );
    case "deny":
      if (facts.isBrowser) {
        return page(403, "Access denied", "You are not allowed to open this page.", reason);
      }
      return json(403, { error: "forbidden", reason });
    case "rate_limited": {
      const retryAfter = { "retry-after": String(decision.retryAfterSec) };
      if (facts.isBrowser) {
        return page(429, "Too many requests", "Please wait a moment and try again.", reason, retryAfter);
      }
      return json(429, { error: "rate_limited", reason, retry_after: decision.retryAfterSec }, retryAfter);
    }
    case "unavailable":
      return json(503, { error: "unavailable", reason }, { "retry-after": "1" });
  }
}

/** 431 for a header value past Vigil's own limit (e.g. a User-Agent over 1 KiB). */
export function headerTooLarge(error: string): Response {
  return json(431, { error: "header_too_large", reason: "header_too_large", description: error });
}

/** 400 for a request Vigil could not parse (malformed X-Forwarded-* headers). */
export function badRequest(error: string): Response {
  return json(400, { error: "bad_request", reason: "bad_request", description: error });
}
