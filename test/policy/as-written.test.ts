/**
 * Rules match the normalised path (%-encoded letters decoded, "//" collapsed), but many backends
 * serve the path as written: Express matches routes on the raw path, WHATWG URL readers (Bun,
 * Node, Deno) keep "//". When the two readings meet different rules, the answer for one is wrong
 * for the other, so the request is refused (400); when they meet the same rule, it is decided as
 * usual. With path_parameters: strip (backends that normalise as Tomcat does) only the normalised
 * reading counts. Real HTTP, real Redis.
 */
import { describe, expect, test } from "bun:test";
import { auth, strip, usePathModes, reject as vigil } from "./path-modes.ts";

usePathModes();

describe("the path as written and the normalised path", () => {
  test.each([
    ["/%70ublic/x", "an encoded letter turns a protected path into the public bypass"],
    ["/%50ublic/../x", "(a dot segment is refused anyway)"],
    ["//public/x", "a leading '//' is not /public to Express or WHATWG URL"],
    ["/%61dmin/x", "the deny rule normalised, the app rule as written"],
  ])("%s is refused with 400: %s", async (uri) => {
    const response = await auth(vigil, uri);
    expect({ uri, status: response.status }).toEqual({ uri, status: 400 });
  });

  test.each([
    ["/public//x", 200],
    ["/public/%7Euser", 200],
    ["/admin//x", 403],
    ["/app/%41", 401],
  ])("%s meets the same rule both ways: decided as usual (%d)", async (uri, status) => {
    const response = await auth(vigil, uri);
    expect({ uri, status: response.status }).toEqual({ uri, status });
  });

  test("path_parameters: strip (normalising backends): the normalised reading decides", async () => {
    expect((await auth(strip, "/%70ublic/x")).status).toBe(200);
    expect((await auth(strip, "//admin/x")).status).toBe(403);
  });
});
