/**
 * Hostile input, property-based (fast-check), against the real app in process (app.fetch with a
 * peer address, the memory store): arbitrary X-Forwarded-* headers, cookies, Authorization values
 * and peers; arbitrary `rd` values against the portal's return-URL check; IPv6 addresses within and
 * outside client prefixes. 14,000 cases in all.
 * - never a crash or a 500;
 * - never a 200 where the rule says deny: no encoding, dot-segment or double-slash trick reaches
 *   /admin/** (denied) with a valid session in hand;
 * - every redirect goes to the configured portal origin, nowhere else;
 * - a forged X-Forwarded-For from an untrusted peer never changes the client IP (observed through
 *   a `networks` rule: the answer is the one without the header);
 * - safeReturnUrl never returns a URL on a host the config does not know;
 * - paths with ";" parameters: refused (400) by default and never an allow on /admin/**; with
 *   path_parameters: strip, answered exactly as the path a parameter-stripping backend reads;
 * - random glob/path pairs: the glob matcher agrees with a segment-wise reference matcher.
 * - every IPv6 address inside a client prefix, in any text form, has that prefix's client key, and
 *   no address outside it does.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import type { Hono } from "hono";
import { type AppEnv, createApp } from "../../src/app.ts";
import { parseForwardedRequest } from "../../src/http/forward-auth/request.ts";
import { isAllowedReturnHost, safeReturnUrl } from "../../src/http/portal/return-url.ts";
import { clientKey } from "../../src/net/client-prefix.ts";
import { compileGlob } from "../../src/policy/matchers/path.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";
import { addressOutside, addressWithin, ipv6Prefix, ipv6Text } from "./ipv6-arbitraries.ts";

// Thousands of generated requests: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const POLICY = `
rules:
  - { name: health, paths: ["/healthz"], action: bypass }
  - { name: admin, hosts: ["app.example.com"], paths: ["/admin/**"], action: deny }
  - { name: office, paths: ["/office/**"], networks: ["203.0.113.0/24"], action: bypass }
  - { name: office-elsewhere, paths: ["/office/**"], action: deny }
  - { name: app, hosts: ["app.example.com", "*.example.com"], action: authenticated }
default: deny
`;

const PORTAL = "https://auth.example.com";
const TRUSTED_PEER = "127.0.0.1";
const UNTRUSTED_PEER = "198.51.100.7";

let vigil: TestVigil;
let app: Hono<AppEnv>;
let token: string;

beforeAll(async () => {
  const high = { session: 1e9, user: 1e9, ip: 1e9 };
  vigil = await startVigil({
    policyText: POLICY,
    store: "memory",
    config: {
      public_url: PORTAL,
      trusted_proxies: ["127.0.0.1/32"],
      log: { level: "silent" },
      risk: { rate: { soft: high, hard: high } },
    },
  });
  app = createApp(vigil.deps);
  ({ token } = await signIn(vigil.stores, { id: "alice", groups: ["admins"] }, vigil.clock.now));
});
afterAll(async () => vigil?.close());

async function auth(headers: Record<string, string>, peer: string): Promise<Response> {
  const request = new Request("http://vigil.internal/auth", { headers });
  return app.fetch(request, { peer });
}

/** Builds a Headers-safe record: values a real HTTP client could send (no CR/LF/NUL, Latin-1). */
function headerRecord(entries: Array<[string, string | undefined]>): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    record[name] = value.replace(/[\r\n\0]/g, "").replace(/[^\x09\x20-\xff]/g, "?");
  }
  return record;
}

// ---- generators -----------------------------------------------------------------------------

const SEGMENTS = [
  "admin",
  "Admin",
  "ADMIN",
  "%61dmin",
  "%2561dmin",
  "adm%69n",
  "%61%64%6d%69%6e",
  "..",
  ".",
  "%2e",
  "%2E",
  "%2e%2e",
  "%2E%2e",
  ".%2e",
  "%2e.",
  "",
  "x",
  "docs",
  "office",
  "healthz",
  "%2f",
  "%2F",
  "admin;x",
  ";",
  "%00",
  "%20",
  "a",
  "b.c",
  "~u",
  "%7e",
  "*",
  "admin..",
  "..admin",
  "admin%2Fx",
  "%2Fadmin",
  "x%2F..%2Fadmin",
  "admin%2f",
  "%2e%2e%2fadmin",
];
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SEGMENTS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,8}$/) },
);
const uri = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.array(fc.tuple(segment, fc.constantFrom("/", "//", "/./", "/../")), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9=&%/.?-]{0,12}$/), { nil: undefined }),
      )
      .map(([parts, query]) => {
        let path = "";
        for (const [seg, sep] of parts) path += sep + seg;
        return query === undefined ? path : `${path}?${query}`;
      }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const host = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "app.example.com",
      "APP.Example.COM",
      "app.example.com.",
      "app.example.com:443",
      "app.example.com:8443",
      "x.example.com",
      "example.com",
      "evil.com",
      "app.example.com.evil.com",
      "auth.example.com",
      "app.example.com,evil.com",
      "evil.com,app.example.com",
      "[::1]",
      "127.0.0.1",
      "app.example.com:0",
      "app_example.com",
      "xn--pp-ula.example.com",
      "app.example.com\\@evil.com",
      "app.example.com@evil.com",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
const method = fc.oneof(
  fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "PROPFIND", ""),
  fc.string({ maxLength: 10 }),
);
const proto = fc.oneof(
  fc.constantFrom("https", "http", "ws", "wss", "HTTPS", "ftp", "", "https,http", "javascript"),
  fc.string({ maxLength: 8 }),
);
const ip = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom(
    "203.0.113.9",
    "10.0.0.1",
    "127.0.0.1",
    "::ffff:203.0.113.9",
    "[2001:db8::1]:443",
    "unknown",
  ),
  fc.string({ maxLength: 12 }),
);
const xff = fc.option(
  fc.array(ip, { minLength: 1, maxLength: 4 }).map((ips) => ips.join(", ")),
  { nil: undefined },
);
const cookie = fc.oneof(
  fc.constant(undefined),
  fc.constant("valid"),
  fc.string({ maxLength: 40 }).map((value) => `vigil_session=${value}`),
  fc.constant("vigil_session=; vigil_session=x"),
  fc.string({ maxLength: 60 }),
);
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom("Bearer abc.def.ghi", "Bearer ", "Basic YWxpY2U6eA==", "bearer eyJhbGciOiJub25lIn0.e30."),
  fc.string({ maxLength: 40 }),
);
const accept = fc.constantFrom("text/html,application/xhtml+xml", "application/json", "*/*", undefined);

// ---- oracles --------------------------------------------------------------------------------

/**
 * What lenient backends could make of the path: decode once, collapse slashes, resolve dots —
 * one that keeps %2F/%5C encoded, one that decodes them (and backslashes) into separators, and
 * one that drops ";" parameters first (Tomcat, Jetty, Spring). The policy's defaults
 * (encoded_slashes and path_parameters: reject) answer 400 to the latter kinds of path, so no
 * reading may reach a denied resource.
 */
function backendPaths(rawUri: string): string[] {
  const raw = rawUri.split("?", 1)[0] ?? "";
  const keepEncoded = raw.replace(/%(2f|5c)/gi, "%25$1");
  return [resolve(keepEncoded, false), resolve(raw, true), parameterStrippingBackendPath(keepEncoded)];
}

function resolve(path: string, backslashIsSlash: boolean): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  if (backslashIsSlash) decoded = decoded.replaceAll("\\", "/");
  const out: string[] = [];
  for (const seg of decoded.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}

function backendHost(rawHost: string): string {
  return (rawHost.split(",")[0] ?? "").trim().toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
}

const CASES = { headers: 6_000, forgedXff: 3_000, returnUrl: 3_000, clientPrefix: 2_000 };

describe("hostile forwardAuth input (fast-check)", () => {
  test(`${CASES.headers} requests: no 500, no allow on a denied path, redirects only to the portal`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ host, uri, method, proto, xff, cookie, authorization, accept, trusted: fc.boolean() }),
        async (input) => {
          const headers = headerRecord([
            ["X-Forwarded-Host", input.host],
            ["X-Forwarded-Uri", input.uri],
            ["X-Forwarded-Method", input.method],
            ["X-Forwarded-Proto", input.proto],
            ["X-Forwarded-For", input.xff],
            ["Cookie", input.cookie === "valid" ? `theme=x; vigil_session=${token}` : input.cookie],
            ["Authorization", input.authorization],
            ["Accept", input.accept],
          ]);
          const response = await auth(headers, input.trusted ? TRUSTED_PEER : UNTRUSTED_PEER);
          await response.arrayBuffer();
          expect([200, 302, 400, 401, 403, 429]).toContain(response.status);

          const sentHost = headers["X-Forwarded-Host"] ?? "";
          const sentUri = headers["X-Forwarded-Uri"] ?? "";
          const reachesAdmin = backendPaths(sentUri).some(
            (path) => path === "/admin" || path.startsWith("/admin/"),
          );
          if (backendHost(sentHost) === "app.example.com" && reachesAdmin) {
            expect({ uri: sentUri, status: response.status }).not.toEqual({ uri: sentUri, status: 200 });
          }
          if (response.status === 302) {
            const location = response.headers.get("location") ?? "";
            expect(new URL(location).origin).toBe(PORTAL);
          }
        },
      ),
      { numRuns: CASES.headers },
    );
  }, 120_000);

  test(`${CASES.forgedXff} requests: an untrusted peer's X-Forwarded-For never changes the client IP`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(ip, { minLength: 1, maxLength: 4 }),
        fc.constantFrom("/office/wiki", "/office/", "/office"),
        async (hops, officeUri) => {
          const base = {
            "X-Forwarded-Host": "app.example.com",
            "X-Forwarded-Uri": officeUri,
            "X-Forwarded-Method": "GET",
            "X-Forwarded-Proto": "https",
            Accept: "application/json",
          };
          const forged = headerRecord([...Object.entries(base), ["X-Forwarded-For", hops.join(", ")]]);
          const plain = await auth(base, UNTRUSTED_PEER);
          const withXff = await auth(forged, UNTRUSTED_PEER);
          // The peer is not in 203.0.113.0/24: office-elsewhere denies, whatever the header says.
          expect(plain.status).toBe(403);
          expect(withXff.status).toBe(plain.status);
          expect(await withXff.json()).toEqual(await plain.json());
        },
      ),
      { numRuns: CASES.forgedXff },
    );
    // Control: the same header from the trusted proxy does move the client into the office.
    const trusted = await auth(
      {
        "X-Forwarded-Method": "GET",
        "X-Forwarded-Host": "app.example.com",
        "X-Forwarded-Uri": "/office/wiki",
        "X-Forwarded-For": "203.0.113.9",
        Accept: "application/json",
      },
      TRUSTED_PEER,
    );
    expect(trusted.status).toBe(200);
  }, 120_000);
});

describe("rd (safeReturnUrl, fast-check)", () => {
  const allowed = {
    publicOrigin: PORTAL,
    cookieDomain: "example.com",
    protectedHosts: ["intranet.example.org", "*.corp.example.net"],
    policyHosts: ["app.example.com", "*.example.com"],
  };
  const TRICKS = [
    "https://app.example.com@evil.com/",
    "https://evil.com\\@app.example.com/",
    "//evil.com/",
    "/\\evil.com",
    "https://app.example.com.evil.com/",
    "https://evil.com#@app.example.com",
    "https://evil.com?@app.example.com",
    "javascript:alert(1)",
    "https:/evil.com",
    "https:evil.com",
    "http://app.example.com/",
    "https://EVIL.com/",
    "https://app.example.com%2F@evil.com",
    "https://evil%2ecom",
    "https://xn--e1afmkfd.com/",
    "https://127.0.0.1/",
    "https://[::1]/",
    "https://app.example.com:443@evil.com",
    "https://corp.example.net/",
    "https://a.corp.example.net/x",
    "https://intranet.example.org./",
    "https://example.com.",
    "\thttps://evil.com",
    "https://evil.com\u2028.example.com",
  ];
  const rd = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...TRICKS) },
    { weight: 2, arbitrary: fc.webUrl({ withFragments: true, withQueryParameters: true }) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...TRICKS, "https://app.example.com/"),
          fc.string({ maxLength: 20 }),
          fc.nat(30),
        )
        .map(([url, noise, at]) => url.slice(0, at) + noise + url.slice(at)),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  );

  test(`${CASES.returnUrl} rd values: never a host the config does not know`, () => {
    fc.assert(
      fc.property(rd, (value) => {
        const result = safeReturnUrl(value, allowed);
        if (result === `${PORTAL}/`) return;
        const url = new URL(result);
        expect(url.username).toBe("");
        expect(url.password).toBe("");
        expect(["https:", "http:"]).toContain(url.protocol);
        // The validator compares hosts without a trailing root dot ("example.com." is example.com).
        expect(isAllowedReturnHost(url.hostname.replace(/\.$/, ""), allowed)).toBe(true);
        if (url.protocol === "http:") expect(url.hostname.endsWith("localhost")).toBe(true);
      }),
      { numRuns: CASES.returnUrl },
    );
  });
});

// ---- ";" path parameters and "**" globs ------------------------------------------------------

const PATH_CASES = { parameters: 2_000, stripped: 2_000, globs: 5_000 };

const PARAMETER_SEGMENTS = [
  "admin",
  "admin;x",
  "admin;",
  "admin;jsessionid=1",
  "public",
  "..;",
  "..;x=1",
  ".;",
  ";",
  ";x",
  "..",
  ".",
  "%2e%2e;",
  "%2e;",
  "%61dmin;a=b",
  "x;y;z",
  "docs",
  "admin%3b",
  "..%3B",
  "%3bx",
  "",
];
const parameterSegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PARAMETER_SEGMENTS) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("admin", "..", ".", "x", ""), fc.stringMatching(/^[A-Za-z0-9=.,;%-]{0,6}$/))
      .map(([base, parameter]) => `${base};${parameter}`),
  },
);
/** Paths built from segments that carry ";" parameters, each with a separator before it. */
const parameterPath = fc
  .array(fc.tuple(parameterSegment, fc.constantFrom("/", "//", "/./")), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.map(([segment, separator]) => separator + segment).join(""));

/** The path as Tomcat, Jetty and Spring read it: ";…" cut from each segment, decoded, dots resolved. */
/** A "." or ".." segment (raw or %2e) once ";…" is cut from each segment: refused in every mode. */
function hasDotSegmentWithoutParameters(raw: string): boolean {
  return raw
    .split("?", 1)[0]!
    .split("/")
    .some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment.split(";", 1)[0]!));
}

function parameterStrippingBackendPath(raw: string): string {
  const cut = raw
    .split("/")
    .map((segment) => segment.split(";", 1)[0])
    .join("/");
  return resolve(cut, false);
}

/** The path as a server that keeps ";" as text reads it ("..;" is an ordinary segment). */
function literalBackendPath(raw: string): string {
  return resolve(raw, false);
}

const underAdmin = (path: string) => path === "/admin" || path.startsWith("/admin/");

/** A reference glob matcher, segment by segment, written for this test only. */
function referenceGlob(glob: string, path: string): boolean {
  const segmentMatches = (pattern: string, text: string): boolean => {
    if (pattern === "") return text === "";
    if (pattern[0] === "*") {
      for (let i = 0; i <= text.length; i++) if (segmentMatches(pattern.slice(1), text.slice(i))) return true;
      return false;
    }
    if (text === "") return false;
    return (pattern[0] === "?" || pattern[0] === text[0]) && segmentMatches(pattern.slice(1), text.slice(1));
  };
  const walk = (globs: string[], parts: string[]): boolean => {
    if (globs.length === 0) return parts.length === 0;
    const [head, ...rest] = globs as [string, ...string[]];
    if (head === "**") {
      for (let skip = 0; skip <= parts.length; skip++) if (walk(rest, parts.slice(skip))) return true;
      return false;
    }
    return parts.length > 0 && segmentMatches(head, parts[0] as string) && walk(rest, parts.slice(1));
  };
  return walk(glob.slice(1).split("/"), path.slice(1).split("/"));
}

describe("';' path parameters and '**' globs (fast-check)", () => {
  let strip: TestVigil;
  let stripApp: Hono<AppEnv>;
  let stripToken: string;

  beforeAll(async () => {
    const high = { session: 1e9, user: 1e9, ip: 1e9 };
    strip = await startVigil({
      policyText: `path_parameters: strip\n${POLICY}`,
      store: "memory",
      config: { public_url: PORTAL, log: { level: "silent" }, risk: { rate: { soft: high, hard: high } } },
    });
    stripApp = createApp(strip.deps);
    ({ token: stripToken } = await signIn(
      strip.stores,
      { id: "alice", groups: ["admins"] },
      strip.clock.now,
    ));
  });
  afterAll(async () => strip?.close());

  const signedIn = (uri: string, sessionToken: string) =>
    new Request("http://vigil.internal/auth", {
      headers: {
        "X-Forwarded-Method": "GET",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "app.example.com",
        "X-Forwarded-Uri": uri,
        Accept: "application/json",
        Cookie: `vigil_session=${sessionToken}`,
      },
    });

  test(`${PATH_CASES.parameters} paths with ';' (default reject): always 400, never an allow on /admin`, async () => {
    await fc.assert(
      fc.asyncProperty(parameterPath, async (uri) => {
        const response = await app.fetch(signedIn(uri, token), { peer: UNTRUSTED_PEER });
        await response.arrayBuffer();
        const reachesAdmin =
          underAdmin(parameterStrippingBackendPath(uri)) || underAdmin(literalBackendPath(uri));
        if (reachesAdmin) expect({ uri, status: response.status }).not.toEqual({ uri, status: 200 });
        if (/;|%3b/i.test(uri)) expect({ uri, status: response.status }).toEqual({ uri, status: 400 });
      }),
      { numRuns: PATH_CASES.parameters },
    );
  }, 120_000);

  test(`${PATH_CASES.stripped} paths with ';' (strip): answered exactly as the path Tomcat reads`, async () => {
    await fc.assert(
      fc.asyncProperty(parameterPath, async (uri) => {
        const response = await stripApp.fetch(signedIn(uri, stripToken), { peer: UNTRUSTED_PEER });
        await response.arrayBuffer();
        // Refused before any stripping: an encoded ";", a dot segment, or an encoded slash,
        // backslash or NUL anywhere in the raw path (encoded_slashes: reject), parameters included.
        if (/%3b|%2f|%5c|%00|\\/i.test(uri) || hasDotSegmentWithoutParameters(uri)) {
          expect({ uri, status: response.status }).toEqual({ uri, status: 400 });
          return;
        }
        const backendPath = parameterStrippingBackendPath(uri);
        if (underAdmin(backendPath))
          expect({ uri, status: response.status }).not.toEqual({ uri, status: 200 });
        const plain = await stripApp.fetch(signedIn(backendPath, stripToken), { peer: UNTRUSTED_PEER });
        await plain.arrayBuffer();
        expect({ uri, backendPath, status: response.status }).toEqual({
          uri,
          backendPath,
          status: plain.status,
        });
      }),
      // An encoded backslash inside a parameter: refused, not stripped away and matched.
      { numRuns: PATH_CASES.stripped, examples: [["/admin;%5C/admin"]] },
    );
  }, 120_000);

  const GLOB_SEGMENTS = [
    "a",
    "b",
    "ab",
    "*",
    "a*",
    "*b",
    "?",
    "a?",
    "**",
    "**",
    "**",
    "",
    "a**",
    "**b",
    "*a*",
  ];
  const PATH_SEGMENTS = ["a", "b", "ab", "ba", "aab", "x", ""];
  const glob = fc
    .array(fc.constantFrom(...GLOB_SEGMENTS), { minLength: 1, maxLength: 5 })
    .map((parts) => `/${parts.join("/")}`);
  const path = fc
    .array(fc.constantFrom(...PATH_SEGMENTS), { minLength: 1, maxLength: 7 })
    .map((parts) => `/${parts.join("/")}`);

  test(`${PATH_CASES.globs} glob/path pairs: the matcher agrees with a segment-wise reference`, () => {
    fc.assert(
      fc.property(glob, path, (pattern, candidate) => {
        const mixed = pattern
          .slice(1)
          .split("/")
          .some((segment) => segment !== "**" && segment.includes("**"));
        if (mixed) {
          expect(() => compileGlob(pattern)).toThrow(/must be a whole segment/);
          return;
        }
        const expected = referenceGlob(pattern, candidate);
        expect({ pattern, candidate, match: compileGlob(pattern)(candidate) }).toEqual({
          pattern,
          candidate,
          match: expected,
        });
      }),
      { numRuns: PATH_CASES.globs },
    );
  });
});

describe("client prefix (clientKey, fast-check)", () => {
  const TRUSTED = (ip: string) => ip === TRUSTED_PEER;
  /** The client key the forwardAuth parser gives a client at `text` (X-Forwarded-For from the proxy). */
  const keyOf = (text: string, ipv6: number) => {
    const headers = new Headers({
      "X-Forwarded-Host": "app.example.com",
      "X-Forwarded-Method": "GET",
      "X-Forwarded-Uri": "/",
      "X-Forwarded-For": text,
    });
    const parsed = parseForwardedRequest(headers, {
      peer: TRUSTED_PEER,
      isTrustedProxy: TRUSTED,
      clientKey: (ip) => clientKey(ip, { ipv4: 32, ipv6 }),
    });
    if (!parsed.ok) throw new Error(`${text}: ${parsed.error}`);
    return parsed.value.clientKey;
  };

  test(`${CASES.clientPrefix} prefixes: every address inside shares the prefix's key, every address outside has another`, () => {
    const scenario = ipv6Prefix(32, 128).chain((prefix) =>
      fc.record({
        prefix: fc.constant(prefix),
        inside: addressWithin(prefix).chain(ipv6Text),
        outside: addressOutside(prefix).chain(ipv6Text),
        network: ipv6Text(prefix.groups),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ prefix, inside, outside, network }) => {
        const key = keyOf(network, prefix.length);
        if (prefix.length < 128) expect(key.endsWith(`/${prefix.length}`)).toBe(true);
        expect(keyOf(inside, prefix.length)).toBe(key);
        expect(keyOf(outside, prefix.length)).not.toBe(key);
      }),
      { numRuns: CASES.clientPrefix },
    );
  });
});
