/**
 * /account against an outsider, over plain HTTP with a real Redis: another user's passkeys and
 * sessions are out of reach, oversized or malformed bodies are refused while read, and nothing
 * changes in any of these cases.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { StoredCredential } from "../../src/ports.ts";
import { signIn } from "../helpers/vigil.ts";
import { type Portal, startPortal } from "../portal/harness.ts";
import { SoftAuthenticator } from "../portal/soft-authenticator.ts";

let portal: Portal;
let cookie: string;

const passkey = (id: string, userId: string): StoredCredential => ({
  id,
  userId,
  publicKey: "pQECAyYgASFYIA",
  counter: 0,
  transports: [],
  deviceType: "singleDevice",
  backedUp: false,
  createdAt: 1,
  lastUsedAt: 0,
  label: "passkey",
});

beforeAll(async () => {
  portal = await startPortal();
  const { token } = await signIn(portal.stores, { id: "mallory" }, Date.now(), { stepUpAt: Date.now() });
  cookie = `vigil_session=${token}`;
  await portal.stores.credentials.add(passkey("mallory-1", "mallory"));
  await portal.stores.credentials.add(passkey("mallory-2", "mallory"));
  await portal.stores.credentials.add(passkey("victim-1", "victim"));
  await portal.stores.credentials.add(passkey("victim-2", "victim"));
});
afterAll(async () => {
  await portal?.close();
});

const post = (path: string, body: BodyInit, type = "application/x-www-form-urlencoded") =>
  fetch(`${portal.url}${path}`, {
    method: "POST",
    headers: { cookie, origin: portal.origin, "content-type": type },
    body,
    redirect: "manual",
  });

test("another user's passkeys and sessions are out of reach", async () => {
  const rename = await post("/account/passkeys/victim-1/rename", "name=owned");
  expect(rename.headers.get("location")).toContain("m=passkey_not_found");
  const remove = await post("/account/passkeys/victim-2/delete", "");
  expect(remove.headers.get("location")).toContain("m=passkey_not_found");
  expect(await portal.stores.credentials.listByUser("victim")).toHaveLength(2);
  expect((await portal.stores.credentials.get("victim-1"))?.name).toBeUndefined();

  const { sessionId } = await signIn(portal.stores, { id: "victim" }, Date.now());
  const end = await post(`/account/sessions/${sessionId}/end`, "");
  expect(end.headers.get("location")).toContain("m=session_not_found");
  expect(await portal.stores.sessions.get(sessionId)).toBeDefined();
});

test("oversized and malformed bodies are refused and change nothing", async () => {
  const big = `name=${"a".repeat(9 * 1024)}`;
  const announced = await post("/account/passkeys/mallory-1/rename", big);
  expect(announced.headers.get("location")).toContain("m=bad_form");
  // The same without a Content-Length (streamed): cut off while read.
  const stream = new ReadableStream({
    start(controller) {
      for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode("a".repeat(1024)));
      controller.close();
    },
  });
  const streamed = await post("/account/passkeys/mallory-1/rename", stream);
  expect(streamed.headers.get("location")).toContain("m=bad_form");
  const wrongType = await post("/account/passkeys/mallory-1/rename", "name=x", "text/plain");
  expect(wrongType.headers.get("location")).toContain("m=bad_form");
  expect((await portal.stores.credentials.get("mallory-1"))?.name).toBeUndefined();

  const json = "application/json";
  expect((await post("/account/passkeys/verify", `{"response":"${"a".repeat(70_000)}"}`, json)).status).toBe(
    413,
  );
  expect((await post("/account/passkeys/verify", "{not json", json)).status).toBe(400);
  expect((await post("/account/passkeys/verify", '{"response":{}}', json)).status).toBe(400);
  // A well-formed answer to a challenge that was never issued is refused.
  const fake = {
    response: {
      id: "AAAA",
      rawId: "AAAA",
      type: "public-key",
      response: { clientDataJSON: "AAAA", attestationObject: "AAAA" },
      clientExtensionResults: {},
    },
  };
  const refused = await post("/account/passkeys/verify", JSON.stringify(fake), json);
  expect(refused.status).toBe(400);
  expect((await refused.json()).error).toBe("challenge_expired");
  expect(await portal.stores.credentials.listByUser("mallory")).toHaveLength(2);
});

test("without a session: pages send to sign-in, actions change nothing", async () => {
  const page = await fetch(`${portal.url}/account`, { redirect: "manual" });
  expect(page.status).toBe(302);
  expect(page.headers.get("location")).toStartWith("/login?rd=");
  const action = await fetch(`${portal.url}/account/passkeys/mallory-1/delete`, {
    method: "POST",
    headers: { origin: portal.origin, "content-type": "application/x-www-form-urlencoded" },
    body: "",
    redirect: "manual",
  });
  expect(action.status).toBe(302);
  expect(await portal.stores.credentials.listByUser("mallory")).toHaveLength(2);
});

test("adding a passkey: a real answer registers it; after a suspension the same ceremony is refused", async () => {
  const ceremony = async (who: string) => {
    const { token } = await signIn(portal.stores, { id: who }, Date.now(), { stepUpAt: Date.now() });
    const headers = {
      cookie: `vigil_session=${token}`,
      origin: portal.origin,
      "content-type": "application/json",
    };
    const options = await fetch(`${portal.url}/account/passkeys/options`, {
      method: "POST",
      headers,
      body: "{}",
    });
    expect(options.status).toBe(200);
    const { response } = new SoftAuthenticator(portal.origin).register(await options.json());
    const verify = () =>
      fetch(`${portal.url}/account/passkeys/verify`, {
        method: "POST",
        headers,
        body: JSON.stringify({ response }),
      });
    const page = () =>
      fetch(`${portal.url}/account`, { headers: { cookie: headers.cookie, accept: "text/html" } });
    return { verify, response, page };
  };

  const ok = await ceremony("olga");
  const added = await ok.verify();
  expect(added.status).toBe(200);
  expect((await portal.stores.credentials.listByUser("olga")).map((p) => p.id)).toEqual([ok.response.id]);

  // Options issued, then the user is suspended (their session lives on until resume).
  const late = await ceremony("pete");
  await portal.stores.users.update("pete", { status: "suspended" });
  const refused = await late.verify();
  expect(refused.status).toBe(403);
  expect((await refused.json()).error).toBe("account_inactive");
  expect(await portal.stores.credentials.listByUser("pete")).toEqual([]);
  // Nor does the suspended user see or change anything on the account page.
  const page = await late.page();
  expect(page.status).toBe(403);
  expect(await page.text()).toContain("Account suspended");
});
