import { describe, expect, test } from "bun:test";
import {
  clientAddress,
  parseAddressOptions,
  parseForwardedRequest,
} from "../../src/http/forward-auth/request.ts";
import { CidrSet } from "../../src/net/cidr-set.ts";

const trusted = CidrSet.parse(["10.0.0.0/8", "fd00::/8"]);
const isTrustedProxy = (ip: string) => trusted.has(ip);

/** Headers as a case-insensitive reader, like Fetch's Headers. */
const reader = (headers: Record<string, string>) => {
  const h = new Headers(headers);
  return (name: string) => h.get(name) ?? undefined;
};

const TRAEFIK = {
  "X-Forwarded-Method": "GET",
  "X-Forwarded-Proto": "https",
  "X-Forwarded-Host": "app.example.com",
  "X-Forwarded-Uri": "/a/b?x=1",
  "X-Forwarded-For": "203.0.113.7",
  "X-Forwarded-Port": "443",
  Accept: "text/html,application/xhtml+xml",
};

describe("parseForwardedRequest", () => {
  test("Traefik's example request becomes facts", () => {
    const result = parseForwardedRequest(reader(TRAEFIK), { peer: "10.0.0.2", isTrustedProxy });
    expect(result).toEqual({
      ok: true,
      value: expect.objectContaining({
        method: "GET",
        proto: "https",
        host: "app.example.com",
        port: undefined,
        path: "/a/b",
        query: "x=1",
        clientIp: "203.0.113.7",
        isBrowser: true,
        isPreflight: false,
        originalUrl: "https://app.example.com/a/b?x=1",
      }),
    });
  });

  test("header names in any casing", () => {
    const lower = Object.fromEntries(Object.entries(TRAEFIK).map(([k, v]) => [k.toLowerCase(), v]));
    const result = parseForwardedRequest(reader(lower), { peer: "10.0.0.2", isTrustedProxy });
    expect(result.ok && result.value.host).toBe("app.example.com");
  });

  test.each([
    ["X-Forwarded-Host", undefined, /X-Forwarded-Host is missing/],
    ["X-Forwarded-Uri", undefined, /X-Forwarded-Uri is missing/],
    ["X-Forwarded-Uri", "a/b", /not a request path/],
    ["X-Forwarded-Uri", "/a b", /not a request path/],
    ["X-Forwarded-Uri", "/a\tb", /not a request path/],
    ["X-Forwarded-Uri", "/caf\u00e9", /not a request path/],
    ["X-Forwarded-Host", "evil.com/x", /host/],
    ["X-Forwarded-Host", "a..b", /host/],
    ["X-Forwarded-Host", "app.example.com:99999", /port/],
    ["X-Forwarded-Method", "G ET", /method/],
    ["X-Forwarded-Method", undefined, /X-Forwarded-Method is missing/],
    ["X-Forwarded-Proto", "gopher", /Proto/],
    ["X-Forwarded-For", "not-an-ip", /X-Forwarded-For/],
  ] as Array<[string, string | undefined, RegExp]>)("%s=%p is refused", (name, value, message) => {
    const headers: Record<string, string> = { ...TRAEFIK };
    if (value === undefined) delete headers[name];
    else headers[name] = value;
    const result = parseForwardedRequest(reader(headers), { peer: "10.0.0.2", isTrustedProxy });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  test("ws/wss map to http/https, ports other than the default are kept", () => {
    const ws = parseForwardedRequest(
      reader({ ...TRAEFIK, "X-Forwarded-Proto": "wss", "X-Forwarded-Host": "app.example.com:8443" }),
      { peer: "10.0.0.2", isTrustedProxy },
    );
    expect(ws.ok && ws.value.originalUrl).toBe("https://app.example.com:8443/a/b?x=1");
    const plain = parseForwardedRequest(
      reader({ ...TRAEFIK, "X-Forwarded-Proto": "ws", "X-Forwarded-Host": "app.localhost:80" }),
      {
        peer: "10.0.0.2",
        isTrustedProxy,
      },
    );
    expect(plain.ok && plain.value.originalUrl).toBe("http://app.localhost/a/b?x=1");
  });

  test("HEAD is a browser navigation, POST is not, OPTIONS with ACRM is a preflight", () => {
    const head = parseForwardedRequest(reader({ ...TRAEFIK, "X-Forwarded-Method": "HEAD" }), {
      peer: "10.0.0.2",
      isTrustedProxy,
    });
    expect(head.ok && head.value.isBrowser).toBe(true);
    const post = parseForwardedRequest(reader({ ...TRAEFIK, "X-Forwarded-Method": "POST" }), {
      peer: "10.0.0.2",
      isTrustedProxy,
    });
    expect(post.ok && post.value.isBrowser).toBe(false);
    const preflight = parseForwardedRequest(
      reader({ ...TRAEFIK, "X-Forwarded-Method": "OPTIONS", "Access-Control-Request-Method": "PUT" }),
      { peer: "10.0.0.2", isTrustedProxy },
    );
    expect(preflight.ok && preflight.value.isPreflight).toBe(true);
  });

  test("session cookie and bearer token are picked out; foreign cookie values are ignored", () => {
    const token = "A".repeat(43);
    const result = parseForwardedRequest(
      reader({
        ...TRAEFIK,
        Cookie: `theme=dark; vigil_session=${token}; other=1`,
        Authorization: "Bearer abc.def.ghi",
      }),
      { peer: "10.0.0.2", isTrustedProxy },
    );
    expect(result.ok && result.value.sessionToken).toBe(token);
    expect(result.ok && result.value.bearerToken).toBe("abc.def.ghi");
    const odd = parseForwardedRequest(reader({ ...TRAEFIK, Cookie: "vigil_session=<script>" }), {
      peer: "10.0.0.2",
      isTrustedProxy,
    });
    expect(odd.ok && odd.value.sessionToken).toBeUndefined();
  });
});

describe("clientAddress: X-Forwarded-For is believed only through trusted proxies", () => {
  test.each([
    // trustForwardHeader=false: Traefik sends only the peer it saw
    ["10.0.0.2", "203.0.113.7", "203.0.113.7"],
    // trustForwardHeader=true: client's claimed chain + real peer; the forged left part is skipped
    ["10.0.0.2", "1.1.1.1, 203.0.113.7", "203.0.113.7"],
    ["10.0.0.2", "1.1.1.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"],
    // an untrusted peer's header is ignored entirely
    ["198.51.100.4", "1.1.1.1", "198.51.100.4"],
    // no header: the peer
    ["10.0.0.2", undefined, "10.0.0.2"],
    // everyone trusted: the left-most
    ["10.0.0.2", "10.9.9.9, 10.0.0.3", "10.9.9.9"],
    // IPv6, brackets, ports, mapped addresses
    ["fd00::1", "[2001:db8::5]:443", "2001:db8::5"],
    ["10.0.0.2", "203.0.113.7:51234", "203.0.113.7"],
    ["::ffff:10.0.0.2", "203.0.113.7", "203.0.113.7"],
  ] as Array<[string, string | undefined, string]>)("peer %s, XFF %p → %s", (peer, xff, expected) => {
    expect(clientAddress(peer, xff, isTrustedProxy)).toEqual({ ok: true, value: expected });
  });

  test("garbage in the trusted part of the chain is refused, garbage beyond it is never read", () => {
    expect(clientAddress("10.0.0.2", "203.0.113.7, bogus", isTrustedProxy).ok).toBe(false);
    expect(clientAddress("10.0.0.2", "bogus, 203.0.113.7", isTrustedProxy)).toEqual({
      ok: true,
      value: "203.0.113.7",
    });
  });
});

describe("address options", () => {
  test("stepup and groups", () => {
    expect(parseAddressOptions(new URLSearchParams("stepup=300&group=admins,ops&group=sre"))).toEqual({
      ok: true,
      value: { stepUpMaxAgeSec: 300, groups: ["admins", "ops", "sre"] },
    });
    expect(parseAddressOptions(new URLSearchParams("stepup=soon")).ok).toBe(false);
    expect(parseAddressOptions(new URLSearchParams("")).ok).toBe(true);
  });
});
