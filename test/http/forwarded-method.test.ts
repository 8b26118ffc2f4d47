/**
 * X-Forwarded-Method is matched as the backend will read it. Methods are case-sensitive (RFC 9110
 * §9.1), and backends disagree on `get`: Go's and Node's servers keep it as another method, while
 * Symfony and others upper-case it. So a method that is not written in upper case is refused with
 * 400, never folded into GET past a GET-only bypass nor kept apart from POST past a POST-only
 * step-up. Real HTTP, real Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

const POLICY = `
rules:
  - { name: read-only, paths: ["/reports/**"], methods: [GET, HEAD], action: bypass }
  - { name: payments, paths: ["/pay/**"], methods: [POST], action: stepup, max_age: 0 }
  - { name: app, action: authenticated }
default: deny
`;

let vigil: TestVigil;
let token: string;

beforeAll(async () => {
  vigil = await startVigil({ policyText: POLICY });
  ({ token } = await signIn(vigil.stores, { id: "bob" }, vigil.clock.now));
});
afterAll(async () => vigil?.close());

const auth = (method: string, uri: string, extra: Record<string, string> = {}) =>
  fetch(`${vigil.url}/auth`, {
    redirect: "manual",
    headers: {
      "X-Forwarded-Method": method,
      "X-Forwarded-Proto": "https",
      "X-Forwarded-Host": "app.example.com",
      "X-Forwarded-Uri": uri,
      Accept: "application/json",
      ...extra,
    },
  });

describe("X-Forwarded-Method case", () => {
  test("upper-case methods meet their rules: GET bypasses, POST demands a step-up", async () => {
    expect((await auth("GET", "/reports/q3")).status).toBe(200);
    const post = await auth("POST", "/pay/now", { Cookie: `vigil_session=${token}` });
    expect(post.status).toBe(401);
    expect(post.headers.get("www-authenticate")).toContain("insufficient_user_authentication");
  });

  test.each(["get", "Get", "gEt"])(
    "%s is refused (400), not let through the GET-only bypass",
    async (method) => {
      const response = await auth(method, "/reports/q3");
      expect(response.status).toBe(400);
      expect((await response.json()).description).toContain("X-Forwarded-Method");
    },
  );

  test.each(["post", "Post"])(
    "%s with a session is refused (400), not allowed past the POST step-up",
    async (method) => {
      const response = await auth(method, "/pay/now", { Cookie: `vigil_session=${token}` });
      expect(response.status).toBe(400);
      expect((await response.json()).description).toContain("X-Forwarded-Method");
    },
  );
});
