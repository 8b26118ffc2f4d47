/**
 * Other spellings of the identity headers (X_Auth_User, X.Auth.User, …) are found and refused by
 * /auth (real HTTP, in-memory store); the exact names are left to the proxy.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { aliasedIdentityHeader } from "../../src/http/forward-auth/aliased-headers.ts";
import { AUTH_RESPONSE_HEADERS } from "../../src/http/forward-auth/headers.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

test("every identity header is found under underscore, dot and mixed spellings", () => {
  for (const name of AUTH_RESPONSE_HEADERS) {
    for (const alias of [
      name.replaceAll("-", "_"),
      name.replaceAll("-", "."),
      name.replace("-", "_"),
      name.replace(/-(?=[^-]*$)/, "~"),
    ]) {
      expect(aliasedIdentityHeader(new Headers([[alias, "mallory"]]))).toBe(alias.toLowerCase());
    }
  }
});

test("the exact names, in any case, and unrelated headers pass", () => {
  const headers = new Headers([
    ...AUTH_RESPONSE_HEADERS.map((name) => [name.toUpperCase(), "x"] as [string, string]),
    ["X_Forwarded_For", "1.2.3.4"],
    ["X_Auth_Users", "x"],
    ["X_Auth", "x"],
    ["Accept", "text/html"],
  ]);
  expect(aliasedIdentityHeader(headers)).toBeUndefined();
  expect(aliasedIdentityHeader(new Headers())).toBeUndefined();
});

describe("/auth with another spelling of an identity header", () => {
  let vigil: TestVigil;
  beforeAll(async () => {
    vigil = await startVigil({
      policyText: `rules:\n  - { name: app, hosts: ["app.example.com"], action: authenticated }\ndefault: deny\n`,
    });
  });
  afterAll(async () => vigil?.close());

  const forwarded = (extra: Record<string, string>) =>
    fetch(`${vigil.url}/auth`, {
      headers: {
        "X-Forwarded-Method": "GET",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "app.example.com",
        "X-Forwarded-Uri": "/home",
        "X-Forwarded-For": "198.51.100.23",
        Accept: "application/json",
        ...extra,
      },
      redirect: "manual",
    });

  test("a signed-in request carrying X_Auth_User or X.Auth.Groups is refused with 400, not allowed", async () => {
    const { token } = await signIn(vigil.stores, { id: "alice", groups: ["staff"] }, vigil.clock.now);
    const cookie = `vigil_session=${token}`;
    expect((await forwarded({ Cookie: cookie })).status).toBe(200);
    for (const [name, value] of [
      ["X_Auth_User", "mallory"],
      ["X.Auth.Groups", "admins"],
    ]) {
      const answer = await forwarded({ Cookie: cookie, [name as string]: value as string });
      expect({ name, status: answer.status }).toEqual({ name, status: 400 });
      expect(await answer.json()).toMatchObject({ error: "bad_request" });
      expect(answer.headers.get("x-auth-user")).toBeNull();
    }
  });

  test("the exact dashed name is left to the proxy: Traefik replaces it on an allow", async () => {
    const { token } = await signIn(vigil.stores, { id: "bob", groups: [] }, vigil.clock.now);
    const answer = await forwarded({ Cookie: `vigil_session=${token}`, "X-Auth-User": "mallory" });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-auth-user")).toBe("bob");
  });
});
