/**
 * "." and ".." segments are refused (400), raw or percent-encoded, in both path_parameters modes.
 * Browsers and curl resolve them before sending and Traefik's sanitizePath removes them, so no
 * legitimate request carries one; behind other proxies backends read them differently, and any
 * single reading lets a request meet a looser rule than the backend serves:
 * - `/admin/../public/x`: public to a resolving reader, under /admin to a router that matches the
 *   raw path (Express `/admin/*`);
 * - `/admin//../public/x`: `/public/x` to Go and nginx (empty segments collapsed first),
 *   `/admin/public/x` to RFC 3986 and WHATWG URL readers (Bun, Node, Deno).
 * Real HTTP, real Redis.
 */
import { describe, expect, test } from "bun:test";
import { requestPath } from "../../src/policy/request-path.ts";
import { auth, reject, strip, usePathModes } from "./path-modes.ts";

usePathModes();

const DOT_PATHS = [
  "/admin/../public/x",
  "/admin//../public/x",
  "/admin/%2e%2e/public/x",
  "/admin/.%2E/public/x",
  "/admin/x/../../public/x",
  "/public/./x",
  "/public/%2e/x",
  "/public/x/..",
  "/public/x/.",
  "/..",
  "/public/..?x=1",
];

describe("dot segments", () => {
  test.each(DOT_PATHS)("%s answers 400 in both modes, never the public bypass", async (uri) => {
    for (const vigil of [reject, strip]) {
      const response = await auth(vigil, uri);
      expect({ uri, status: response.status }).toEqual({ uri, status: 400 });
      expect((await response.json()).description).toContain("dot segment");
    }
  });

  test("strip mode: a '..;' segment is a dot segment once its parameter is stripped", async () => {
    const response = await auth(strip, "/admin/..;/public/x");
    expect(response.status).toBe(400);
    expect((await response.json()).description).toContain("dot segment");
  });

  test("dots inside a segment are names, not dot segments", async () => {
    for (const uri of [
      "/public/.well-known/x",
      "/public/x..y",
      "/public/...",
      "/public/a.b/c.",
      "/public/%2e%2e%2e",
    ]) {
      expect({ uri, status: (await auth(reject, uri)).status }).toEqual({ uri, status: 200 });
    }
    expect(requestPath("/public/...", { encodedSlashes: "reject", pathParameters: "reject" })).toMatchObject({
      ok: true,
      path: "/public/...",
    });
  });
});
