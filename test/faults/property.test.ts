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
 * - every IPv6 address inside a client prefix, in any text form, has that prefix's client key, and
 *   no address outside it does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { Hono } from "hono";
import { type AppEnv, createApp } from "../../src/app.ts";
import { parseForwardedRequest } from "../../src/http/forward-auth/request.ts";
import { isAllowedReturnHost, safeReturnUrl } from "../../src/http/portal/return-url.ts";
import { clientKey } from "../../src/net/client-prefix.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";
import { addressOutside, addressWithin, ipv6Prefix, ipv6Text } from "./ipv6-arbitraries.ts";

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
 * one that keeps %2F/%5C encoded, and one that decodes them (and backslashes) into separators.
 * The policy's default (encoded_slashes: reject) answers 400 to the latter kind of path, so
 * neither reading may reach a denied resource.
 */
function backendPaths(rawUri: string): string[] {
  const raw = rawUri.split("?", 1)[0] ?? "";
  const keepEncoded = raw.replace(/%(2f|5c)/gi, "%25$1");
  return [resolve(keepEncoded, false), resolve(raw, true)];
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

describe("client prefix (clientKey, fast-check)", () => {
  const TRUSTED = (ip: string) => ip === TRUSTED_PEER;
  /** The client key the forwardAuth parser gives a client at `text` (X-Forwarded-For from the proxy). */
  const keyOf = (text: string, ipv6: number) => {
    const headers = new Headers({
      "X-Forwarded-Host": "app.example.com",
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
