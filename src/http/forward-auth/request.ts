/**
 * Parses Traefik's forwardAuth request (see shared/reference/traefik-forwardauth.md) into
 * RequestFacts. Anything malformed is refused with a reason, never guessed: an auth gateway that
 * guesses a host or a path can be steered past its own rules.
 */
import type { AddressOptions, RequestFacts } from "../../core/types.ts";
import { memoize } from "../../lib/memoize.ts";
import { clientKey, DEFAULT_CLIENT_PREFIXES } from "../../net/client-prefix.ts";
import { formatIp, parseIp } from "../../net/ip.ts";
import { SESSION_COOKIE } from "../../session/cookie.ts";
import { TOKEN_PATTERN } from "../../session/token.ts";

export type ParseResult<T> =
  | { ok: true; value: T }
  /** tooLarge: a header value past Vigil's own limit (answered 431, not 400). */
  | { ok: false; error: string; tooLarge?: true };

/**
 * Read-only view of the headers we need: a reader function (Hono's c.req.header) or Fetch's
 * Headers itself (no per-request closure on the decision path).
 */
export type HeaderReader = ((name: string) => string | undefined) | { get(name: string): string | null };

function read(header: HeaderReader, name: string): string | undefined {
  return typeof header === "function" ? header(name) : (header.get(name) ?? undefined);
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/;
const METHOD = /^[A-Z]{1,16}$/;
// Printable ASCII without space; X-Forwarded-Uri is an escaped request-target.
const URI = /^\/[\x21-\x7e]*$/;
const MAX_URI = 8192;
/**
 * Real user agents are a few hundred bytes. A longer one is refused (431) rather than hashed and
 * remembered: unique multi-KiB values are an attacker's way to make every request cost memory.
 */
export const MAX_USER_AGENT_BYTES = 1024;

/**
 * Strips brackets and ports and returns the canonical text (IPv4-mapped IPv6 as IPv4, IPv6
 * compressed lower case), so one address always has one reputation and rate key.
 * undefined when it is not an IP address (zone ids included).
 */
export function normaliseIp(raw: string): string | undefined {
  let text = raw.trim();
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return undefined;
    text = text.slice(1, end);
  } else if (text.includes(".") && text.lastIndexOf(":") > 0 && text.indexOf(":") === text.lastIndexOf(":")) {
    text = text.slice(0, text.indexOf(":")); // 1.2.3.4:5678
  }
  const ip = parseIp(text);
  return ip ? formatIp(ip) : undefined;
}

const defaultClientKey = (ip: string) => clientKey(ip, DEFAULT_CLIENT_PREFIXES);

/** normaliseIp, memoised: the proxy's address and a client's come back on every request. */
const canonicalIp = memoize(normaliseIp);

/**
 * The client's address: walk X-Forwarded-For from the right through trusted proxies and take the
 * first address that is not one. An untrusted peer's X-Forwarded-For is ignored entirely.
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  isTrustedProxy: (ip: string) => boolean,
): ParseResult<string> {
  const peerIp = canonicalIp(peer);
  if (!peerIp) return { ok: false, error: "peer address is not an IP" };
  if (!isTrustedProxy(peerIp) || !forwardedFor) return { ok: true, value: peerIp };
  // Hops from the right, sliced in place (the whole value when it is a single hop).
  let end = forwardedFor.length;
  for (;;) {
    const comma = end === 0 ? -1 : forwardedFor.lastIndexOf(",", end - 1);
    const hop = canonicalIp(
      comma < 0 && end === forwardedFor.length ? forwardedFor : forwardedFor.slice(comma + 1, end),
    );
    if (!hop) return { ok: false, error: "X-Forwarded-For holds something that is not an IP address" };
    if (!isTrustedProxy(hop)) return { ok: true, value: hop };
    if (comma < 0) return { ok: true, value: hop };
    end = comma;
  }
}

function parseHost(raw: string): ParseResult<{ host: string; port: string | undefined }> {
  const text = raw.trim().toLowerCase();
  const match = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(text);
  if (!match) return { ok: false, error: "X-Forwarded-Host is not host[:port]" };
  const host = match[1]!.replace(/\.$/, "");
  // A name (IPv4 literals pass as names) or a bracketed IPv6 literal.
  const valid = host.startsWith("[") ? parseIp(host.slice(1, -1))?.version === 6 : HOST.test(host);
  if (!valid) return { ok: false, error: "X-Forwarded-Host is not a valid host name" };
  const port = match[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return { ok: false, error: "X-Forwarded-Host has an invalid port" };
  }
  return { ok: true, value: { host, port } };
}

const TOKEN = TOKEN_PATTERN;

/** The first cookie called `name`, walked in place (no array of parts). */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let start = 0;
  while (start <= header.length) {
    let end = header.indexOf(";", start);
    if (end < 0) end = header.length;
    const eq = header.indexOf("=", start);
    if (eq >= 0 && eq < end && header.slice(start, eq).trim() === name) {
      const value = header.slice(eq + 1, end).trim();
      // Our tokens are base64url; anything else is not ours and is treated as absent.
      return TOKEN.test(value) ? value : undefined;
    }
    start = end + 1;
  }
  return undefined;
}

function bearer(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  return match ? match[1] : undefined;
}

export interface ParseContext {
  peer: string;
  isTrustedProxy: (ip: string) => boolean;
  /** The per-client key of an address; default: net/client-prefix.ts with the default prefixes. */
  clientKey?: (ip: string) => string;
}

/** The first item of a comma-separated header value, without a copy when there is one item. */
const firstItem = (value: string) => {
  const comma = value.indexOf(",");
  return comma < 0 ? value : value.slice(0, comma);
};

export function parseForwardedRequest(
  header: HeaderReader,
  context: ParseContext,
): ParseResult<RequestFacts> {
  const rawHost = read(header, "x-forwarded-host");
  const uri = read(header, "x-forwarded-uri");
  if (!rawHost) return { ok: false, error: "X-Forwarded-Host is missing" };
  if (!uri) return { ok: false, error: "X-Forwarded-Uri is missing" };
  if (uri.length > MAX_URI || !URI.test(uri))
    return { ok: false, error: "X-Forwarded-Uri is not a request path" };
  const host = parseHost(firstItem(rawHost));
  if (!host.ok) return host;

  // Traefik, Caddy and nginx (as documented) always send it. Guessing GET would skip every rule
  // limited to other methods, so a proxy that forgot it gets a refusal, not a guess.
  const rawMethod = read(header, "x-forwarded-method");
  if (rawMethod === undefined) return { ok: false, error: "X-Forwarded-Method is missing" };
  // Methods are case-sensitive and backends disagree on `get` (kept apart from GET by Go and Node,
  // upper-cased by Symfony): matching either reading can skip a rule, so only upper case passes.
  const method = rawMethod.trim();
  if (!METHOD.test(method)) {
    return { ok: false, error: "X-Forwarded-Method is not an upper-case HTTP method" };
  }

  const rawProto = firstItem(read(header, "x-forwarded-proto") ?? "https")
    .trim()
    .toLowerCase();
  const proto =
    rawProto === "http" || rawProto === "ws"
      ? "http"
      : rawProto === "https" || rawProto === "wss"
        ? "https"
        : undefined;
  if (!proto) return { ok: false, error: "X-Forwarded-Proto is not http, https, ws or wss" };

  const client = clientAddress(context.peer, read(header, "x-forwarded-for"), context.isTrustedProxy);
  if (!client.ok) return client;

  const queryAt = uri.indexOf("?");
  const path = queryAt < 0 ? uri : uri.slice(0, queryAt);
  const query = queryAt < 0 ? "" : uri.slice(queryAt + 1);
  const defaultPort = proto === "https" ? "443" : "80";
  const port = host.value.port === defaultPort ? undefined : host.value.port;
  const accept = read(header, "accept") ?? "";
  const isNavigation = method === "GET" || method === "HEAD";
  const userAgent = read(header, "user-agent") ?? "";
  if (userAgent.length > MAX_USER_AGENT_BYTES)
    return { ok: false, error: `User-Agent is longer than ${MAX_USER_AGENT_BYTES} bytes`, tooLarge: true };
  const cookie = read(header, "cookie");
  const authorization = read(header, "authorization");

  return {
    ok: true,
    value: {
      method,
      proto,
      host: host.value.host,
      port,
      path,
      query,
      clientIp: client.value,
      clientKey: (context.clientKey ?? defaultClientKey)(client.value),
      userAgent,
      isBrowser: isNavigation && accept.includes("text/html"),
      isPreflight: method === "OPTIONS" && read(header, "access-control-request-method") !== undefined,
      sessionToken: cookieValue(cookie, SESSION_COOKIE),
      bearerToken: bearer(authorization),
      originalUrl: `${proto}://${host.value.host}${port ? `:${port}` : ""}${uri}`,
      headerBytes:
        rawHost.length +
        uri.length +
        accept.length +
        userAgent.length +
        (cookie?.length ?? 0) +
        (authorization?.length ?? 0),
    },
  };
}

/** Reads ?stepup=N and ?group=G (repeatable or comma-separated) from the forwardAuth address. */
export function parseAddressOptions(query: URLSearchParams): ParseResult<AddressOptions> {
  let stepUpMaxAgeSec: number | undefined;
  const stepup = query.get("stepup");
  if (stepup !== null) {
    if (!/^\d{1,7}$/.test(stepup)) return { ok: false, error: "address option stepup must be whole seconds" };
    stepUpMaxAgeSec = Number(stepup);
  }
  const groups: string[] = [];
  for (const value of query.getAll("group")) {
    for (const part of value.split(",")) {
      const group = part.trim();
      if (group) groups.push(group);
    }
  }
  return { ok: true, value: { stepUpMaxAgeSec, groups } };
}
