/**
 * Local user ids reach backends in X-Auth-User, one header value of printable ASCII. An id that
 * header could not carry exactly (non-ASCII letters, invisible characters) would be written with
 * a stand-in and read as another user's; an id with spaces around it would be trimmed into an
 * existing user's. Both are refused when a user is created (admin API and CLI share the
 * operation), with a clear error and nothing stored. Real HTTP, real Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

const TOKEN = "admin-token-for-tests-0123456789abcdef";
const POLICY = "rules:\n  - { name: app, action: authenticated }\ndefault: deny\n";

let vigil: TestVigil;

beforeAll(async () => {
  vigil = await startVigil({ config: { admin: { token: TOKEN } }, policyText: POLICY });
  await signIn(vigil.stores, { id: "admin", groups: ["admins"] }, vigil.clock.now);
});
afterAll(async () => vigil?.close());

const mint = (user: string) =>
  fetch(`${vigil.url}/admin/users/${encodeURIComponent(user)}/enrollments`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}` },
  });

const xAuthUser = async (cookieToken: string) => {
  const response = await fetch(`${vigil.url}/auth`, {
    headers: {
      "X-Forwarded-Method": "GET",
      "X-Forwarded-Proto": "https",
      "X-Forwarded-Host": "app.example.com",
      "X-Forwarded-Uri": "/",
      Cookie: `vigil_session=${cookieToken}`,
    },
  });
  expect(response.status).toBe(200);
  return response.headers.get("x-auth-user");
};

describe("new local user ids", () => {
  test.each([
    ["a non-ASCII letter (X-Auth-User would carry a stand-in)", "zoë"],
    ["a full-width letter that reads as admin", "ａdmin"],
    ["a zero-width space before admin", "\u200badmin"],
    ["a leading space (would be trimmed into admin)", " admin"],
    ["a trailing newline (would be trimmed into admin)", "admin\n"],
    ["a control character inside", "ad\u0007min"],
  ])("%s is refused with 400 invalid_user and nothing is stored", async (_case, user) => {
    const response = await mint(user);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe("invalid_user");
    expect(await vigil.stores.users.get(user)).toBeUndefined();
    // The existing admin was not handed a link or changed either.
    expect((await vigil.stores.users.get("admin"))?.groups).toEqual(["admins"]);
  });

  test("printable ASCII with punctuation is a user id, carried exactly in X-Auth-User", async () => {
    const id = "o'brien.smith+ops@example.com";
    const response = await mint(id);
    expect(response.status).toBe(201);
    expect((await response.json()).user.id).toBe(id);
    const { token } = await signIn(vigil.stores, { id }, vigil.clock.now);
    expect(await xAuthUser(token)).toBe(id);
  });
});
