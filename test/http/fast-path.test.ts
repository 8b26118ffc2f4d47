/**
 * /auth answered before Hono (createVigilFetch, what server.ts serves): which URLs take the fast
 * path, and that it answers exactly as the Hono route does, failing closed on an error.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isForwardAuthUrl } from "../../src/app.ts";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

describe("isForwardAuthUrl", () => {
  test.each([
    ["http://vigil:8080/auth", true],
    ["http://vigil:8080/auth?stepup=300&group=admins", true],
    ["http://[::1]:8080/auth", true],
    ["http://vigil/auth/", false],
    ["http://vigil/authz", false],
    ["http://vigil/auth/x", false],
    ["http://vigil/", false],
    ["http://vigil/login?rd=/auth", false],
    ["http://vigil/%61uth", false],
  ])("%s → %p", (url, expected) => expect(isForwardAuthUrl(url)).toBe(expected));
});

const HEADERS = {
  "X-Forwarded-Method": "GET",
  "X-Forwarded-Proto": "https",
  "X-Forwarded-Host": "app.example.com",
  "X-Forwarded-Uri": "/public/a",
};

describe("fast path", () => {
  let vigil: TestVigil;
  beforeAll(async () => {
    vigil = await startVigil({
      store: "memory",
      policyText: `
rules:
  - { name: public, paths: ["/public/**"], action: bypass }
default: deny
`,
    });
  });
  afterAll(async () => vigil?.close());

  test("a bypass answers 200 at once; a malformed request 400; HEAD and /auth/ go through Hono", async () => {
    const ok = await fetch(`${vigil.url}/auth`, { headers: HEADERS });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-auth-rule")).toBe("public");
    expect(ok.headers.get("cache-control")).toBe("no-store");
    const head = await fetch(`${vigil.url}/auth`, { method: "HEAD", headers: HEADERS });
    expect(head.status).toBe(200);
    const bad = await fetch(`${vigil.url}/auth?stepup=soon`, { headers: HEADERS });
    expect(bad.status).toBe(400);
    const slash = await fetch(`${vigil.url}/auth/`, { headers: HEADERS });
    expect(slash.status).toBe(404);
  });
});

describe("fast path errors", () => {
  let vigil: TestVigil;
  beforeAll(async () => {
    vigil = await startVigil({
      store: "memory",
      deps: {
        policy: {
          current() {
            throw new Error("policy exploded");
          },
        },
      },
    });
  });
  afterAll(async () => vigil?.close());

  test("an exception in the handler is a 503 no-store, never an allow, on both paths", async () => {
    for (const method of ["GET", "POST", "HEAD"]) {
      const response = await fetch(`${vigil.url}/auth`, { method, headers: HEADERS });
      expect(response.status).toBe(503);
      expect(response.headers.get("cache-control")).toBe("no-store");
      if (method !== "HEAD") expect(await response.json()).toEqual({ error: "internal_error" });
    }
  });
});

describe("fast path errors after the store read", () => {
  let vigil: TestVigil;
  beforeAll(async () => {
    vigil = await startVigil({
      store: "memory",
      policyText: "rules: []\ndefault: authenticated\n",
      deps: {
        ipLists: {
          current() {
            throw new Error("lists exploded");
          },
        },
      },
    });
  });
  afterAll(async () => vigil?.close());

  test("a rejected decision is a 503 no-store, never an allow", async () => {
    const response = await fetch(`${vigil.url}/auth`, { headers: HEADERS });
    expect(response.status).toBe(503);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({ error: "internal_error" });
  });
});
