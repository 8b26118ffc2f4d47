/**
 * The portal's ceremonies over real HTTP and real Redis, driven by a software authenticator.
 * Every refusal is checked twice: the answer, and that the store did not change (users,
 * credentials with their counters, sessions).
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { ipReputationKey } from "../../src/ports.ts";
import { bootstrapFirstAdmin, mintEnrollment } from "../../src/webauthn/enrollment.ts";
import { PortalClient } from "./client.ts";
import { APP_HOST, forwardAuthHeaders, type Portal, startPortal } from "./harness.ts";
import { SoftAuthenticator } from "./soft-authenticator.ts";

let portal: Portal;
let nextIp = 10;
const freshIp = () => `198.51.100.${nextIp++}`;

beforeAll(async () => {
  portal = await startPortal({
    config: { regulation: { max_retries: 3, find_time: "10m", ban_time: "15m" } },
  });
});
afterAll(async () => {
  await portal?.close();
});

async function snapshot(...userIds: string[]) {
  const { users, credentials, sessions } = portal.stores;
  return Promise.all(
    userIds.map(async (id) => ({
      user: await users.get(id),
      credentials: (await credentials.listByUser(id)).sort((a, b) => a.id.localeCompare(b.id)),
      sessions: (await sessions.listByUser(id)).sort((a, b) => a.id.localeCompare(b.id)),
    })),
  );
}

async function mint(userId: string) {
  return mintEnrollment(
    { stores: portal.stores, config: portal.config },
    { userId, groups: ["staff"] },
    Date.now(),
  );
}

/** Enrolls `userId` with `soft` from a fresh link; the client ends signed in. */
async function enroll(userId: string, client: PortalClient, soft: SoftAuthenticator) {
  const { token } = await mint(userId);
  const options = await client.post("/webauthn/register/options", { token });
  expect(options.status).toBe(200);
  const { response, credential } = soft.register(options.body as never);
  const verified = await client.post("/webauthn/register/verify", { token, response });
  expect(verified.status).toBe(200);
  expect(client.cookie("vigil_session")).toBeDefined();
  return credential;
}

async function loginOptions(client: PortalClient) {
  const options = await client.post("/webauthn/login/options", {});
  expect(options.status).toBe(200);
  return options.body as never;
}

async function stepUpOptions(client: PortalClient): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await client.post("/webauthn/stepup/options", {});
  expect(options.status).toBe(200);
  return options.body as unknown as PublicKeyCredentialRequestOptionsJSON;
}

describe("enrollment", () => {
  test("a failed registration leaves the link usable; success consumes it; a reused link is refused", async () => {
    const client = new PortalClient(portal, freshIp());
    const soft = new SoftAuthenticator(portal.origin);
    const { token } = await mint("erin");
    const page = await client.get(`/enroll/${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Create your passkey");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'nonce-");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("referrer-policy")).toBe("same-origin");
    expect(page.headers.get("cache-control")).toContain("no-store");

    // A registration from the wrong origin (clientDataJSON) is refused and changes nothing.
    const before = await snapshot("erin");
    const options = await client.post("/webauthn/register/options", { token });
    const bad = soft.register(options.body as never, { origin: "http://evil.localhost" });
    const refused = await client.post("/webauthn/register/verify", { token, response: bad.response });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("origin_mismatch");
    expect(await snapshot("erin")).toEqual(before);
    expect(client.cookie("vigil_session")).toBeUndefined();

    // The challenge was spent by the failure: the same options cannot be answered again.
    const good = soft.register(options.body as never);
    const spent = await client.post("/webauthn/register/verify", { token, response: good.response });
    expect(spent.status).toBe(400);
    expect(spent.body.error).toBe("challenge_expired");
    expect(await snapshot("erin")).toEqual(before);

    // The link still works.
    const options2 = await client.post("/webauthn/register/options", { token });
    const ok = soft.register(options2.body as never);
    const verified = await client.post("/webauthn/register/verify", { token, response: ok.response });
    expect(verified.status).toBe(200);
    expect(verified.body.redirect).toBe(`${portal.origin}/`);
    const [stored] = await portal.stores.credentials.listByUser("erin");
    expect(stored?.id).toBe(ok.credential.id);
    expect(stored?.backedUp).toBe(false);
    expect(stored?.deviceType).toBe("singleDevice");

    // Reuse: the page says so, and the API refuses.
    const afterUse = await snapshot("erin");
    const reusedPage = await client.get(`/enroll/${token}`);
    expect(reusedPage.status).toBe(410);
    expect(reusedPage.text).toContain("new enrollment link");
    const reused = await client.post("/webauthn/register/options", { token });
    expect(reused.status).toBe(410);
    expect(reused.body.error).toBe("link_invalid");
    expect(await snapshot("erin")).toEqual(afterUse);
  });

  test("an expired link is refused and nothing is stored", async () => {
    const client = new PortalClient(portal, freshIp());
    const soft = new SoftAuthenticator(portal.origin);
    const { token } = await mint("ed");
    const options = await client.post("/webauthn/register/options", { token });
    const { response } = soft.register(options.body as never);
    const before = await snapshot("ed");
    portal.clock.now = Date.now() + portal.config.webauthn.enrollment_ttl + 1000;
    try {
      expect((await client.get(`/enroll/${token}`)).status).toBe(410);
      const refused = await client.post("/webauthn/register/verify", { token, response });
      expect(refused.status).toBe(410);
      expect(refused.body.error).toBe("link_invalid");
    } finally {
      portal.clock.now = undefined;
    }
    expect(await snapshot("ed")).toEqual(before);
    expect(before[0]?.credentials).toEqual([]);
    // A token that was never minted.
    expect((await client.get(`/enroll/${"A".repeat(43)}`)).status).toBe(410);
    expect((await client.get("/enroll/not-a-token")).status).toBe(410);
  });
});

describe("sign-in", () => {
  test("a replayed assertion is refused and changes nothing", async () => {
    const client = new PortalClient(portal, freshIp());
    const soft = new SoftAuthenticator(portal.origin);
    await enroll("rita", client, soft);
    client.jar.clear();
    const options = await loginOptions(client);
    const ceremony = client.cookie("vigil_ceremony");
    const assertion = soft.assert(options);
    const rd = `http://${APP_HOST}:8443/x`;
    const first = await client.post("/webauthn/login/verify", { response: assertion, rd });
    expect(first.status).toBe(200);
    expect(first.body.redirect).toBe(rd);
    const sessionCookie = first.headers.getSetCookie().find((c) => c.startsWith("vigil_session="));
    expect(sessionCookie).toContain("HttpOnly");
    expect(sessionCookie).toContain("Domain=vigil.localhost");
    expect(sessionCookie).toContain("SameSite=Lax");
    expect(sessionCookie).toContain(`Max-Age=${portal.config.session.absolute_timeout / 1000}`);

    const before = await snapshot("rita");
    // The same answer again, with the same ceremony cookie…
    client.jar.set("vigil_ceremony", ceremony as string);
    const replay = await client.post("/webauthn/login/verify", { response: assertion, rd });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("challenge_expired");
    // …or against a fresh ceremony.
    await loginOptions(client);
    const replay2 = await client.post("/webauthn/login/verify", { response: assertion, rd });
    expect(replay2.status).toBe(400);
    expect(replay2.body.error).toBe("challenge_mismatch");
    expect(await snapshot("rita")).toEqual(before);
  });

  test("an off-site rd falls back to the portal", async () => {
    const client = new PortalClient(portal, freshIp());
    const soft = new SoftAuthenticator(portal.origin);
    await enroll("olga", client, soft);
    const options = await loginOptions(client);
    const answer = await client.post("/webauthn/login/verify", {
      response: soft.assert(options),
      rd: "https://app.vigil.localhost.evil.com/",
    });
    expect(answer.status).toBe(200);
    expect(answer.body.redirect).toBe(`${portal.origin}/`);
    const page = await client.get(`/login?rd=${encodeURIComponent("//evil.com/x")}`);
    expect(page.text).toContain(`data-rd="${portal.origin}/"`);
    expect(page.text).not.toContain("evil.com");
  });

  test("a signature counter that does not increase is refused and logged as a possible clone", async () => {
    const client = new PortalClient(portal, freshIp());
    const soft = new SoftAuthenticator(portal.origin);
    const credential = await enroll("carl", client, soft);
    const ok = await client.post("/webauthn/login/verify", {
      response: soft.assert(await loginOptions(client)),
    });
    expect(ok.status).toBe(200);
    const before = await snapshot("carl");
    const cloned = soft.assert(await loginOptions(client), { credential, counter: credential.counter });
    const refused = await client.post("/webauthn/login/verify", { response: cloned });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("counter_not_increased");
    expect(await snapshot("carl")).toEqual(before);
    expect(portal.logLines.join("")).toContain("possible cloned authenticator");
  });
});

describe("step-up", () => {
  test("a reused challenge is refused; a failed verification spends the challenge", async () => {
    const client = new PortalClient(portal, freshIp());
    const soft = new SoftAuthenticator(portal.origin);
    await enroll("uma", client, soft);
    const options = await stepUpOptions(client);
    const before = await snapshot("uma");

    // A failure (user not verified) spends the challenge…
    const unverified = await client.post("/webauthn/stepup/verify", {
      response: soft.assert(options, { userVerified: false }),
    });
    expect(unverified.status).toBe(400);
    expect(unverified.body.error).toBe("user_not_verified");
    // …so a good answer to the same challenge is refused too.
    const again = await client.post("/webauthn/stepup/verify", { response: soft.assert(options) });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("challenge_expired");
    expect(await snapshot("uma")).toEqual(before);

    // A fresh challenge passes; two answers to it: only the first counts. (From a new address:
    // this one has two failures already, and a third would ban it.)
    client.ip = freshIp();
    const fresh = await stepUpOptions(client);
    const first = soft.assert(fresh);
    const second = soft.assert(fresh);
    const passed = await client.post("/webauthn/stepup/verify", { response: first });
    expect(passed.status).toBe(200);
    const after = await snapshot("uma");
    expect(after[0]?.sessions[0]?.acr).toBe("phr");
    expect(after[0]?.sessions[0]?.amr).toEqual(["hwk", "user", "mfa"]);
    expect(after[0]?.sessions[0]?.ip).toBe(client.ip);
    expect(after[0]?.sessions[0]?.stepUpAt).toBeGreaterThan(0);
    expect(after[0]?.sessions[0]?.id).not.toBe(before[0]?.sessions[0]?.id);
    const reused = await client.post("/webauthn/stepup/verify", { response: second });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe("challenge_expired");
    // And the accepted answer cannot be replayed against a new challenge.
    await stepUpOptions(client);
    const replay = await client.post("/webauthn/stepup/verify", { response: first });
    expect(replay.status).toBe(400);
    expect(await snapshot("uma")).toEqual(after);
  });

  test("a step-up records its own check: acr phr, its time, and the RFC 8176 methods it used", async () => {
    const client = new PortalClient(portal, freshIp());
    const soft = new SoftAuthenticator(portal.origin);
    await enroll("sam", client, soft);
    // A sign-in whose authenticator did not verify the user (userVerification "preferred"), as
    // the user's only session.
    client.jar.clear();
    await portal.stores.sessions.deleteByUser("sam");
    const signedIn = await client.post("/webauthn/login/verify", {
      response: soft.assert(await loginOptions(client), { userVerified: false }),
    });
    expect(signedIn.status).toBe(200);
    const admin = `http://${APP_HOST}/admin/panel`;
    const ask = () =>
      fetch(`${portal.url}/auth`, {
        headers: forwardAuthHeaders(admin, client.cookieHeader(), client.ip),
        redirect: "manual",
      });
    const [signIn] = await snapshot("sam");
    expect(signIn?.sessions).toHaveLength(1);
    expect(signIn?.sessions[0]).toMatchObject({ acr: "passkey", amr: ["hwk", "user"], stepUpAt: 0 });
    expect((await ask()).status).toBe(302); // the admin rule asks for a step-up

    const stepUp = await client.post("/webauthn/stepup/verify", {
      response: soft.assert(await stepUpOptions(client)),
    });
    expect(stepUp.status).toBe(200);
    const [after] = await snapshot("sam");
    expect(after?.sessions).toHaveLength(1);
    // acr is raised, the time is recorded (max_age counts from it), and amr lists the step-up's
    // own methods: user verification was required, so "mfa" is there now.
    expect(after?.sessions[0]).toMatchObject({ acr: "phr", amr: ["hwk", "user", "mfa"] });
    expect(after?.sessions[0]?.stepUpAt).toBeGreaterThan(0);
    const allowed = await ask();
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-auth-acr")).toBe("phr");
    expect(allowed.headers.get("x-auth-amr")).toBe("hwk,user,mfa");
  });

  test("a foreign credential (user B's passkey while signed in as A) is refused", async () => {
    const soft = new SoftAuthenticator(portal.origin);
    const alice = new PortalClient(portal, freshIp());
    const bob = new PortalClient(portal, freshIp());
    await enroll("fa-alice", alice, soft);
    const bobs = await enroll("fa-bob", bob, soft);
    const options = await stepUpOptions(alice);
    const allowed = options.allowCredentials?.map((c) => c.id) ?? [];
    expect(allowed).not.toContain(bobs.id);
    expect(allowed).toHaveLength(1);

    const before = await snapshot("fa-alice", "fa-bob");
    const foreign = soft.assert(options, { credential: bobs });
    const refused = await alice.post("/webauthn/stepup/verify", { response: foreign });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("foreign_credential");
    expect(await snapshot("fa-alice", "fa-bob")).toEqual(before);
    // The failed step-up raised the address's dynamic reputation.
    expect(await portal.stores.counters.get(ipReputationKey(alice.ip))).toBe(
      portal.config.risk.dynamic_ip.failed_stepup_points,
    );
  });

  test("without a session: JSON 401, and the page redirects to sign-in keeping rd", async () => {
    const client = new PortalClient(portal, freshIp());
    const answer = await client.post("/webauthn/stepup/options", {});
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: "no_session", message: expect.any(String) });
    const rd = `http://${APP_HOST}/admin`;
    const page = await client.get(`/stepup?rd=${encodeURIComponent(rd)}`);
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe(`/login?rd=${encodeURIComponent(`${rd}`)}`);
  });
});

describe("same-origin only (CSRF)", () => {
  test("cross-origin and cross-site requests are refused before anything happens", async () => {
    const client = new PortalClient(portal, freshIp());
    const soft = new SoftAuthenticator(portal.origin);
    await enroll("cora", client, soft);
    const before = await snapshot("cora");
    for (const path of [
      "/webauthn/login/options",
      "/webauthn/stepup/options",
      "/webauthn/login/verify",
      "/logout",
    ]) {
      const evil = await client.post(path, {}, { origin: "http://evil.localhost" });
      expect(evil.status).toBe(403);
      expect(evil.body.error).toBe("cross_origin");
      const none = await client.post(path, {}, { origin: null });
      expect(none.status).toBe(403);
      const crossSite = await client.post(path, {}, { headers: { "sec-fetch-site": "same-site" } });
      expect(crossSite.status).toBe(403);
    }
    // A right Origin header but a clientDataJSON from another origin.
    const options = await stepUpOptions(client);
    const wrong = await client.post("/webauthn/stepup/verify", {
      response: soft.assert(options, { origin: "http://auth.vigil.localhost:1" }),
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe("origin_mismatch");
    expect(await snapshot("cora")).toEqual(before);
  });
});

describe("regulation", () => {
  test("an address is banned after max_retries failures, with Retry-After", async () => {
    const client = new PortalClient(portal, freshIp());
    const soft = new SoftAuthenticator(portal.origin);
    await enroll("lou", client, soft);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const options = await loginOptions(client);
      const bad = soft.assert(options, { origin: "http://evil.localhost" });
      statuses.push((await client.post("/webauthn/login/verify", { response: bad })).status);
    }
    expect(statuses).toEqual([400, 400, 429]);
    const banned = await client.post("/webauthn/login/options", {});
    expect(banned.status).toBe(429);
    expect(banned.body.error).toBe("too_many_failures");
    expect(Number(banned.headers.get("retry-after"))).toBeGreaterThan(800);
    // The user is banned too (their failures came from one address here).
    const elsewhere = new PortalClient(portal, freshIp());
    const options = await loginOptions(elsewhere);
    const good = await elsewhere.post("/webauthn/login/verify", { response: soft.assert(options) });
    expect(good.status).toBe(429);
    // Another user from another address is unaffected.
    const other = new PortalClient(portal, freshIp());
    await enroll("lou2", other, new SoftAuthenticator(portal.origin));
  });
});

describe("logout", () => {
  test("deletes the session and clears the cookie; /auth then asks for sign-in", async () => {
    const client = new PortalClient(portal, freshIp());
    await enroll("lena", client, new SoftAuthenticator(portal.origin));
    const token = client.cookie("vigil_session") as string;
    const url = `http://${APP_HOST}/home`;
    const allowed = await fetch(`${portal.url}/auth`, {
      headers: forwardAuthHeaders(url, `vigil_session=${token}`),
    });
    expect(allowed.status).toBe(200);
    const out = await client.post("/logout", {});
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().join()).toContain("Max-Age=0");
    expect(client.cookie("vigil_session")).toBeUndefined();
    expect(await portal.stores.sessions.listByUser("lena")).toEqual([]);
    const after = await fetch(`${portal.url}/auth`, {
      headers: forwardAuthHeaders(url, `vigil_session=${token}`),
      redirect: "manual",
    });
    expect(after.status).toBe(302);
  });
});

describe("bootstrap", () => {
  test("prints a link for the first admin while it has no passkey, to print only", async () => {
    const fresh = await startPortal();
    try {
      const printed: string[] = [];
      const minted = await bootstrapFirstAdmin(
        { stores: fresh.stores, config: fresh.config },
        (line) => printed.push(line),
        Date.now(),
      );
      expect(minted?.url).toStartWith(`${fresh.origin}/enroll/`);
      expect(printed.join("\n")).toContain(minted?.url as string);
      expect(await fresh.stores.users.get("admin")).toMatchObject({ status: "active", groups: ["admins"] });
      expect(fresh.logLines.join("")).not.toContain(minted?.token as string);
      // Until the admin has a passkey, every start prints a fresh link; afterwards none.
      const again = await bootstrapFirstAdmin(
        { stores: fresh.stores, config: fresh.config },
        () => {},
        Date.now(),
      );
      expect(again?.token).toBeDefined();
      expect(again?.token).not.toBe(minted?.token);
      const client = new PortalClient(fresh, "198.51.100.250");
      const soft = new SoftAuthenticator(fresh.origin);
      const options = await client.post("/webauthn/register/options", { token: again?.token });
      const { response } = soft.register(options.body as never);
      expect((await client.post("/webauthn/register/verify", { token: again?.token, response })).status).toBe(
        200,
      );
      expect(
        await bootstrapFirstAdmin({ stores: fresh.stores, config: fresh.config }, () => {}, Date.now()),
      ).toBe(undefined);
      expect((await client.post("/webauthn/register/options", { token: minted?.token })).status).toBe(410);
    } finally {
      await fresh.close();
    }
  });
});
