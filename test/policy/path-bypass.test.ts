/**
 * Path tricks that once slipped past rules, checked twice: on the pure pieces (requestPath, the
 * glob matcher) and through a real /auth over HTTP on a real Redis.
 * - ";" path parameters: refused by default (path_parameters: reject), or stripped from every
 *   segment before dot segments are resolved (strip), as Tomcat, Jetty and Spring read them;
 *   an encoded ";" (%3B) is refused in both modes.
 * - "**" keeps "/" boundaries wherever it stands: zero or more whole segments.
 * - A request without X-Forwarded-Method is refused, never taken as GET.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { compilePolicyText } from "../../src/policy/compile.ts";
import { compileGlob } from "../../src/policy/matchers/path.ts";
import { requestPath } from "../../src/policy/request-path.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

const OPTIONS = { defaultMaxAgeMs: 300_000 };
const REJECT = { encodedSlashes: "reject", pathParameters: "reject" } as const;
const STRIP = { encodedSlashes: "reject", pathParameters: "strip" } as const;

describe("requestPath: ';' path parameters", () => {
  test.each(["/public/..;/admin/x", "/admin;/x", "/admin;jsessionid=1/x", "/x;", "/;/admin"])(
    "%s is refused by default",
    (raw) => {
      const result = requestPath(raw, REJECT);
      expect(result).toEqual({ ok: false, error: expect.stringContaining("path_parameters: reject") });
    },
  );

  test.each([
    ["/admin;/x", "/admin/x"],
    ["/admin;jsessionid=1/x;a=b", "/admin/x"],
    ["/;x/admin", "/admin"],
    ["/admin;", "/admin"],
    ["/plain/path", "/plain/path"],
  ])("strip: %s → %s (parameters removed from every segment)", (raw, expected) => {
    expect(requestPath(raw, STRIP)).toMatchObject({ ok: true, path: expected });
  });

  test.each(["/public/..;/admin/x", "/public/..;x=1/..;/admin", "/public/%2e%2e;/admin", "/a/.;/b"])(
    "strip: %s is a dot segment once its parameter is removed: refused",
    (raw) => {
      expect(requestPath(raw, STRIP)).toEqual({ ok: false, error: expect.stringContaining("dot segment") });
    },
  );

  test.each(["/admin%3B/x", "/public/..%3b/admin", "/x%3Bjsessionid=1"])(
    "%s (an encoded ';') is refused in both modes",
    (raw) => {
      for (const settings of [REJECT, STRIP]) {
        const result = requestPath(raw, settings);
        expect(result).toEqual({ ok: false, error: expect.stringContaining("encoded semicolon") });
      }
    },
  );

  test("paths without parameters are normalised as before", () => {
    expect(requestPath("//admin", REJECT)).toMatchObject({ ok: true, path: "/admin" });
    expect(requestPath("/%61dmin", STRIP)).toMatchObject({ ok: true, path: "/admin" });
    expect(requestPath("/admin%2Fx", STRIP).ok).toBe(false);
  });
});

describe("globs: '**' matches whole segments only", () => {
  test.each([
    ["/api/**/public", "/api/public", true],
    ["/api/**/public", "/api/v1/public", true],
    ["/api/**/public", "/api/v1/x/public", true],
    ["/api/**/public", "/apipublic", false],
    ["/api/**/public", "/api/admin/notpublic", false],
    ["/api/**/public", "/api/public/x", false],
    ["/api/**/public", "/apix/public", false],
    ["/**/healthz", "/healthz", true],
    ["/**/healthz", "/a/b/healthz", true],
    ["/**/healthz", "/admin/dbhealthz", false],
    ["/**/healthz", "/healthz/x", false],
    ["/**", "/", true],
    ["/**", "/a/b", true],
    ["/admin/**", "/admin", true],
    ["/admin/**", "/admin/", true],
    ["/admin/**", "/administrator", false],
    ["/a/**/b/**/c", "/a/b/c", true],
    ["/a/**/b/**/c", "/a/x/b/y/z/c", true],
    ["/a/**/b/**/c", "/a/xb/c", false],
    ["/a/**/b/**/c", "/a/b/xc", false],
    ["/a/**/**/b", "/a/b", true],
    ["/**/*.pdf", "/docs/a.pdf", true],
    ["/**/*.pdf", "/docs/a.pdf/x", false],
  ])("%s ~ %s → %p", (glob, path, expected) => expect(compileGlob(glob)(path)).toBe(expected));

  test.each(["/a**b", "/**.pdf", "/admin**", "/x/***/y"])(
    "%s is refused at load, naming the rule",
    (glob) => {
      const policy = `rules:\n  - { name: odd-glob, paths: ["${glob}"], action: bypass }\n`;
      expect(() => compilePolicyText(policy, OPTIONS)).toThrow(
        /rule "odd-glob": paths: .*"\*\*" must be a whole segment/,
      );
    },
  );

  test("many '**' or '*' against a long hostile path: the right answer, no backtracking blow-up", () => {
    const depths = compileGlob("/**/a/**/a/**/a/**/b");
    const manySegments = `${"/a".repeat(2000)}/c`;
    expect(depths(manySegments)).toBe(false);
    expect(depths(`${manySegments}/b`)).toBe(true);
    const stars = compileGlob("/*a*a*a*a*b");
    const longSegment = `/${"a".repeat(4000)}`;
    expect(stars(longSegment)).toBe(false);
    expect(stars(`${longSegment}b`)).toBe(true);
    expect(compileGlob("/**/*a*/x")(manySegments)).toBe(false);
  });
});

const POLICY = `
rules:
  - { name: public, paths: ["/public/**"], action: bypass }
  - { name: health, paths: ["/**/healthz"], action: bypass }
  - { name: open-api, paths: ["/api/**/public"], action: bypass }
  - { name: admin, paths: ["/admin/**"], groups: [admins], action: stepup, max_age: 5m }
  - { name: payments, paths: ["/pay/**"], methods: [POST], action: stepup, max_age: 0 }
  - { name: app, action: authenticated }
default: deny
`;

describe("through /auth over HTTP", () => {
  let reject: TestVigil;
  let strip: TestVigil;
  let token: string;
  let stripToken: string;

  beforeAll(async () => {
    reject = await startVigil({ policyText: POLICY });
    strip = await startVigil({ policyText: `path_parameters: strip\n${POLICY}`, store: "memory" });
    ({ token } = await signIn(reject.stores, { id: "bob", groups: ["staff"] }, reject.clock.now));
    ({ token: stripToken } = await signIn(strip.stores, { id: "bob", groups: ["staff"] }, strip.clock.now));
  });
  afterAll(async () => {
    await reject?.close();
    await strip?.close();
  });

  const auth = (vigil: TestVigil, uri: string, extra: Record<string, string> = {}) =>
    fetch(`${vigil.url}/auth`, {
      redirect: "manual",
      headers: {
        "X-Forwarded-Method": "GET",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "app.example.com",
        "X-Forwarded-Uri": uri,
        "X-Forwarded-For": "203.0.113.7",
        Accept: "application/json",
        ...extra,
      },
    });

  test("default: ';' parameters and %3B answer 400 with the reason, never the bypass", async () => {
    const cases = [
      ["/public/..;/admin/x", "path_parameters: reject"],
      ["/admin;/x", "path_parameters: reject"],
      ["/public/x;y", "path_parameters: reject"],
      ["/public/..%3B/admin", "encoded semicolon"],
    ];
    for (const [uri, reason] of cases) {
      const response = await auth(reject, uri as string, { Cookie: `vigil_session=${token}` });
      const body = await response.json();
      expect({ uri, status: response.status, error: body.error }).toEqual({
        uri,
        status: 400,
        error: "bad_request",
      });
      expect(body.description).toContain(reason);
    }
  });

  test("strip: '/admin;/x' is the admin rule, '/public/..;/admin/x' a refused dot segment", async () => {
    expect((await auth(strip, "/public/..;/admin/x")).status).toBe(400);
    expect((await auth(strip, "/admin;/x")).status).toBe(401);
    const signedIn = await auth(strip, "/admin;/x", { Cookie: `vigil_session=${stripToken}` });
    expect(signedIn.status).toBe(403);
    // The bypass still answers for its own paths, parameters or not.
    expect((await auth(strip, "/public/logo.svg;v=2")).status).toBe(200);
  });

  test("'**' in the middle keeps segment boundaries", async () => {
    expect((await auth(reject, "/ops/healthz")).status).toBe(200);
    expect((await auth(reject, "/api/v1/public")).status).toBe(200);
    for (const uri of ["/admin/dbhealthz", "/apipublic", "/api/admin/notpublic"]) {
      const response = await auth(reject, uri);
      expect({ uri, status: response.status }).toEqual({ uri, status: 401 });
    }
  });

  test("a missing X-Forwarded-Method is refused (400), not taken as GET past a POST-only rule", async () => {
    const headers = {
      "X-Forwarded-Proto": "https",
      "X-Forwarded-Host": "app.example.com",
      "X-Forwarded-Uri": "/pay/now",
      Accept: "application/json",
      Cookie: `vigil_session=${token}`,
    };
    const response = await fetch(`${reject.url}/auth`, { headers, redirect: "manual" });
    expect(response.status).toBe(400);
    expect((await response.json()).description).toBe("X-Forwarded-Method is missing");
    // With the method the proxy sends, the POST-only step-up rule applies.
    const post = await auth(reject, "/pay/now", {
      "X-Forwarded-Method": "POST",
      Cookie: `vigil_session=${token}`,
    });
    expect(post.status).toBe(401);
    expect(post.headers.get("www-authenticate")).toContain("insufficient_user_authentication");
  });
});
