/**
 * One Redis round trip per /auth decision with every risk signal on: geo (real geoip-lite),
 * static IP lists, rate counters and dynamic reputation. Vigil gets a redis-server of its own, so
 * MONITOR sees nothing but Vigil: each decision must be exactly one EVALSHA (or EVAL the first
 * time), with the session, user, counter and reputation reads running inside that script.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import Redis from "ioredis";
import { ipReputationKey } from "../../src/ports.ts";
import { hashUserAgent } from "../../src/risk/user-agent-hash.ts";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";
import { list } from "./fixtures.ts";

const NOW = Date.UTC(2025, 0, 15, 12);
const BERLIN = "81.169.145.1"; // DE
const US = "8.8.8.8"; // US
const TOKYO = "133.242.0.1"; // JP, on the weighted list
const TOR_EXIT = "185.220.101.1"; // on the deny list
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

const POLICY = `
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: app, hosts: ["app.example.com"], action: authenticated }
default: deny
`;

let redis: RedisHandle;
let vigil: TestVigil;
/** A plain client and the MONITOR connection it opens (its own). */
let monitor: Redis | undefined;
let feed: Redis | undefined;
/** Commands Vigil's connection sent (not the ones its scripts ran), and the ones scripts ran. */
const sent: string[][] = [];
const scripted: string[][] = [];

beforeAll(async () => {
  redis = await startRedis({ own: true });
  vigil = await startVigil({
    now: NOW,
    policyText: POLICY,
    store: { redisUrl: redis.url },
    config: { risk: { rate: { window: "60s", soft: { session: 3 }, hard: { session: 1000 } } } },
    deps: {
      ipLists: {
        current: () => [
          list("tor-exits", ["185.220.101.0/24"], "deny"),
          list("firehol-level3", ["133.242.0.0/16"], "score", 25),
        ],
      },
    },
  });
});

afterAll(async () => {
  feed?.disconnect();
  monitor?.disconnect();
  await vigil?.close();
  await redis?.stop();
});

function auth(ip: string, token: string | undefined, ua = UA): Promise<Response> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    "User-Agent": ua,
    "X-Forwarded-Method": "GET",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "app.example.com",
    "X-Forwarded-Uri": "/home",
    "X-Forwarded-For": ip,
  };
  if (token) headers.Cookie = `vigil_session=${token}`;
  return fetch(`${vigil.url}/auth`, { headers, redirect: "manual" });
}

/** Waits until MONITOR has reported at least `count` commands, then a little longer for strays. */
async function settle(count: number): Promise<void> {
  for (let i = 0; i < 200 && sent.length < count; i++) await Bun.sleep(5);
  await Bun.sleep(50);
}

test("every /auth decision is exactly one script call, whatever the signals decide", async () => {
  const session = (id: string, ip: string, country: string) =>
    signIn(vigil.stores, { id, groups: ["staff"] }, NOW, { ip, country, uaHash: hashUserAgent(UA) });
  const a = await session("alice", US, "US");
  const b = await session("bob", BERLIN, "DE");
  const c = await session("carol", BERLIN, "DE");
  await vigil.stores.counters.add(ipReputationKey(BERLIN), 15, 3_600_000);

  monitor = new Redis(redis.url);
  feed = await monitor.monitor();
  feed.on("monitor", (_time: string, args: string[], source: string) => {
    (source === "lua" ? scripted : sent).push(args);
  });
  await Bun.sleep(50);

  const cases: Array<{ what: string; ip: string; token?: string; status: number; risk?: string }> = [
    { what: "home, nothing fires", ip: US, token: a.token, status: 200, risk: "0" },
    { what: "dynamic reputation", ip: BERLIN, token: b.token, status: 200, risk: "15" },
    { what: "country + weighted list → step-up", ip: TOKYO, token: c.token, status: 401 },
    { what: "rate counted", ip: US, token: a.token, status: 200, risk: "0" },
    { what: "rate counted", ip: US, token: a.token, status: 200, risk: "0" },
    { what: "over the soft rate limit", ip: US, token: a.token, status: 200, risk: "30" },
    { what: "country + travel + list + rate → deny", ip: TOKYO, token: a.token, status: 403 },
    { what: "deny list, anonymous", ip: TOR_EXIT, status: 403 },
    { what: "anonymous → sign in", ip: TOKYO, status: 401 },
  ];
  for (const c of cases) {
    const before = sent.length;
    const response = await auth(c.ip, c.token);
    await settle(before + 1);
    const commands = sent.slice(before).map((args) => args[0]?.toLowerCase());
    // One command per decision: EVALSHA (ioredis sends EVAL when the script is not loaded yet).
    expect({ what: c.what, status: response.status, commands: commands.length }).toEqual({
      what: c.what,
      status: c.status,
      commands: 1,
    });
    expect(["eval", "evalsha"]).toContain(commands[0] ?? "none");
    if (c.risk !== undefined) expect(response.headers.get("x-auth-risk")).toBe(c.risk);
  }

  // Inside that one call: the session and user hashes, the rate counters and the reputation
  // (matched by key, not by command, so the script may change how it reads them).
  const touched = (part: string) => scripted.some((args) => args.slice(1).some((arg) => arg.includes(part)));
  expect(touched("{u:alice}:s:")).toBe(true);
  expect(touched("{u:alice}:user")).toBe(true);
  expect(touched("{u:alice}:rate:")).toBe(true);
  expect(touched(`{ip:${BERLIN}}:rate:`)).toBe(true);
  expect(touched(`{ip:${BERLIN}}:rep`)).toBe(true);
});
