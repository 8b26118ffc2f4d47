import { describe, expect, test } from "bun:test";
import { compileHosts } from "../../src/policy/matchers/host.ts";
import { compileMethods } from "../../src/policy/matchers/method.ts";
import { compileNetworks } from "../../src/policy/matchers/network.ts";
import { compileGlob, compilePaths, normalisePath } from "../../src/policy/matchers/path.ts";

describe("host matcher", () => {
  const match = compileHosts(["app.example.com", "*.corp.example.com"]);
  test.each([
    ["app.example.com", true],
    ["APP.example.com".toLowerCase(), true],
    ["evil-app.example.com", false],
    ["app.example.com.evil.net", false],
    ["a.corp.example.com", true],
    ["a.b.corp.example.com", true],
    ["corp.example.com", false],
    ["xcorp.example.com", false],
  ])("%s → %p", (host, expected) => expect(match(host)).toBe(expected));

  test("rejects a wildcard in the middle", () => {
    expect(() => compileHosts(["app.*.example.com"])).toThrow(/first label/);
  });
});

describe("path globs", () => {
  test.each([
    ["/admin/**", "/admin", true],
    ["/admin/**", "/admin/", true],
    ["/admin/**", "/admin/users/7", true],
    ["/admin/**", "/administrator", false],
    ["/api/*/items", "/api/v1/items", true],
    ["/api/*/items", "/api/v1/x/items", false],
    ["/files/*.pdf", "/files/a.pdf", true],
    ["/files/*.pdf", "/files/apdf", false],
    ["/**", "/anything/at/all", true],
    ["/healthz", "/healthz", true],
    ["/healthz", "/healthz/x", false],
    ["/v?/x", "/v1/x", true],
  ])("%s ~ %s → %p", (glob, path, expected) => expect(compileGlob(glob)(path)).toBe(expected));

  test("regex alternative", () => {
    const match = compilePaths(undefined, "^/api/v\\d+/admin");
    expect(match("/api/v2/admin/x")).toBe(true);
    expect(match("/api/vx/admin")).toBe(false);
  });

  test("a glob must be absolute", () => expect(() => compileGlob("admin/**")).toThrow());
  test("a broken regex is refused", () => expect(() => compilePaths(undefined, "([")).toThrow(/path_regex/));
});

describe("path normalisation closes rule bypasses", () => {
  test.each([
    ["/admin", "/admin"],
    ["/%61dmin/x", "/admin/x"],
    ["/%2e%2e/admin", "/admin"],
    ["/public/../admin", "/admin"],
    ["/public/%2E%2E/admin/", "/admin/"],
    ["//admin", "/admin"],
    ["/./admin/.", "/admin/"],
    ["/a%2Fb", "/a%2Fb"],
    ["/", "/"],
    ["/../../..", "/"],
  ])("%s → %s", (raw, expected) => expect(normalisePath(raw)).toBe(expected));
});

describe("methods and networks", () => {
  test("methods are case-insensitive and validated", () => {
    const match = compileMethods(["post", "PUT"]);
    expect(match("POST")).toBe(true);
    expect(match("GET")).toBe(false);
    expect(() => compileMethods(["PO ST"])).toThrow();
  });
  test("IPv4 and IPv6 networks", () => {
    const match = compileNetworks(["10.0.0.0/8", "fd00::/8"]);
    expect(match("10.1.2.3")).toBe(true);
    expect(match("11.0.0.1")).toBe(false);
    expect(match("fd12::1")).toBe(true);
    expect(match("fe80::1")).toBe(false);
    expect(() => compileNetworks(["10.0.0.0/33"])).toThrow();
  });
});
