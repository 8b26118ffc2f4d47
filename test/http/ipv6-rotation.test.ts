/**
 * An IPv6 client can pick a new address inside its /64 for every request. Every per-client
 * control counts per client prefix (client_prefix, /64 by default), so rotating changes nothing:
 * ceremony start limits, failure bans, /auth rate limits and dynamic IP reputation. Real HTTP,
 * real Redis; each client address arrives in X-Forwarded-For from the trusted loopback proxy.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { ipReputationKey } from "../../src/ports.ts";
import { signIn } from "../helpers/vigil.ts";
import { PortalClient } from "../portal/client.ts";
import { APP_HOST, forwardAuthHeaders, type Portal, startPortal } from "../portal/harness.ts";

const MAX_STARTS = 3;
const HARD_IP = 5;
const WINDOW_MS = 10 * 60_000;
const RATE_WINDOW_MS = 60_000;

let portal: Portal;
let network = 0x100;
/** A fresh /64 per test, and an endless supply of addresses inside it. */
let prefix = "";
let host = 1;
const rotated = () => `${prefix}:${(host++).toString(16)}:${(host * 7).toString(16)}:9:1`;

beforeAll(async () => {
  portal = await startPortal({
    config: {
      regulation: {
        max_starts: MAX_STARTS,
        start_window: "10m",
        max_retries: 2,
        find_time: "10m",
        ban_time: "2m",
      },
      risk: {
        rate: { window: "60s", soft: { ip: HARD_IP - 2 }, hard: { ip: HARD_IP } },
        dynamic_ip: { rate_violation_points: 25 },
      },
    },
  });
});
afterAll(async () => {
  await portal?.close();
});

let windowStart = Math.ceil(Date.now() / WINDOW_MS) * WINDOW_MS;
beforeEach(() => {
  windowStart += WINDOW_MS;
  portal.clock.now = windowStart + 15_000;
  prefix = `2001:db8:${(network++).toString(16)}:7`;
});

const keyOfPrefix = () => `${prefix}::/64`;
/** An address of the neighbouring /64: another client. */
const neighbour = () => `2001:db8:${(network + 5000).toString(16)}:8::1`;

describe("portal regulation keys on the /64", () => {
  test("ceremony starts: rotated addresses of one /64 share max_starts; another /64 does not", async () => {
    for (let i = 0; i < MAX_STARTS; i++) {
      const ok = await new PortalClient(portal, rotated()).post("/webauthn/login/options", {});
      expect(ok.status).toBe(200);
    }
    const limited = await new PortalClient(portal, rotated()).post("/webauthn/login/options", {});
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe("too_many_requests");
    // Logged with the exact address and the network it was counted under.
    expect(portal.logLines.some((l) => l.includes("signin_start_limited") && l.includes(keyOfPrefix()))).toBe(
      true,
    );
    expect((await new PortalClient(portal, neighbour()).post("/webauthn/login/options", {})).status).toBe(
      200,
    );
  });

  test("failure bans: failures from rotated addresses add up, and the ban covers the whole /64", async () => {
    const unknownPasskey = {
      id: "eA",
      rawId: "eA",
      type: "public-key",
      response: { clientDataJSON: "", authenticatorData: "", signature: "" },
    };
    /** A sign-in ceremony started and failed (unknown passkey) from a new address of the /64. */
    const failFromNewAddress = async () => {
      const client = new PortalClient(portal, rotated());
      expect((await client.post("/webauthn/login/options", {})).status).toBe(200);
      return client.post("/webauthn/login/verify", { response: unknownPasskey });
    };
    expect((await failFromNewAddress()).body.error).toBe("unknown_credential");
    const second = await failFromNewAddress();
    expect(second.status).toBe(429);
    expect(second.body.error).toBe("too_many_failures");
    const fresh = await new PortalClient(portal, rotated()).post("/webauthn/login/options", {});
    expect(fresh.status).toBe(429);
    expect(fresh.body.error).toBe("too_many_failures");
    expect((await new PortalClient(portal, neighbour()).post("/webauthn/login/options", {})).status).toBe(
      200,
    );
  });
});

describe("/auth keys on the /64", () => {
  const auth = (ip: string, cookie?: string) =>
    fetch(`${portal.url}/auth`, {
      headers: { ...forwardAuthHeaders(`https://${APP_HOST}/home`, cookie, ip), Accept: "application/json" },
    });

  test("rate limit: requests from rotated addresses count together, past hard.ip → 429; reputation lands on the /64", async () => {
    const rateStart = Math.ceil(Date.now() / RATE_WINDOW_MS + 1000) * RATE_WINDOW_MS;
    portal.clock.now = rateStart + 1000;
    for (let i = 0; i < HARD_IP; i++) expect((await auth(rotated())).status).toBe(401);
    const limited = await auth(rotated());
    expect(limited.status).toBe(429);
    expect((await limited.json()).reason).toBe("rate_limited");
    expect((await auth(neighbour())).status).toBe(401);

    // The violation raised the network's dynamic reputation (fire and forget)…
    const key = ipReputationKey(keyOfPrefix());
    for (let i = 0; i < 100 && (await portal.stores.counters.get(key)) < 25; i++) await Bun.sleep(10);
    expect(await portal.stores.counters.get(key)).toBe(25);

    // …which a signed-in user at another address of that /64 carries, once the rate window is over.
    portal.clock.now = rateStart + 3 * RATE_WINDOW_MS;
    const elsewhere = rotated();
    const { token } = await signIn(portal.stores, { id: "rotating-user" }, portal.clock.now, {
      ip: elsewhere,
      uaHash: "",
    });
    const answer = await auth(rotated(), `vigil_session=${token}`);
    expect(answer.headers.get("x-auth-risk")).toBe("25");
  });
});
