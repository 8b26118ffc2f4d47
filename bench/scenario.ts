/**
 * What the Vigil cases of the bench run against: the policy, the config (100k-entry reputation
 * list, geo, rate counters, decision log), the seeded user and sessions, and the forwardAuth
 * headers of each case. Shared by bench/run.ts and bench/profile.ts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRedisClient, createRedisStores, waitForRedis } from "../src/adapters/redis/index.ts";
import { hashUserAgent } from "../src/risk/user-agent-hash.ts";
import { RUNTIME_ENV } from "../src/runtime-tuning.ts";
import { LOOPBACK } from "./lib.ts";
import { writeReputationList } from "./reputation-list.ts";

export const HOST = "app.example.com";
export const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
/** A public address geoip-lite places in the US; the stepped-up session's baseline is the US too. */
export const PUBLIC_CLIENT = "8.8.8.8";
export const LIST_ENTRIES = 100_000;

export const POLICY = `
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: public, hosts: ["${HOST}"], paths: ["/public/**"], action: bypass }
  - { name: admin, hosts: ["${HOST}"], paths: ["/admin/**"], action: stepup, max_age: 1h }
  - { name: app, hosts: ["${HOST}"], action: authenticated }
default: deny
`;

export function vigilConfig(listPath: string, allowSampleRate: number): string {
  // Rate counters are on (every decision bumps three of them) but the limits sit above what a
  // benchmark sends from one session and one address, so the answer stays 200.
  const high = "{ session: 1000000000, user: 1000000000, ip: 1000000000 }";
  return `
public_url: http://auth.localhost
log: { level: info, allow_sample_rate: ${allowSampleRate} }
risk:
  ip_lists: [{ name: bench-reputation, path: ${JSON.stringify(listPath)}, weight: 30, action: score }]
  geo: { enabled: true }
  rate: { window: 60s, soft: ${high}, hard: ${high} }
`;
}

/** An active user with a plain session, and an admin whose session has a fresh step-up from the US. */
export async function seedSessions(redisUrl: string): Promise<{ plain: string; stepped: string }> {
  const client = createRedisClient(redisUrl, { commandTimeoutMs: 2_000 });
  await waitForRedis(client, 5_000);
  const stores = createRedisStores(client); // the default prefix, as the Vigil processes use
  const now = Date.now();
  const put = (id: string) =>
    stores.users.put({ id, displayName: id, status: "active", groups: ["staff"], createdAt: now });
  await put("bench-user");
  await put("bench-admin");
  const ttl = 12 * 3600_000;
  const uaHash = hashUserAgent(USER_AGENT);
  const plain = await stores.sessions.create(
    {
      userId: "bench-user",
      acr: "passkey",
      amr: ["hwk", "user"],
      authAt: now,
      stepUpAt: 0,
      ip: LOOPBACK,
      country: "",
      uaHash,
    },
    now,
    ttl,
  );
  const stepped = await stores.sessions.create(
    {
      userId: "bench-admin",
      acr: "phr",
      amr: ["hwk", "user", "mfa"],
      authAt: now,
      stepUpAt: now,
      ip: PUBLIC_CLIENT,
      country: "US",
      uaHash,
    },
    now,
    ttl,
  );
  client.disconnect();
  return { plain: plain.token, stepped: stepped.token };
}

export interface Scenario {
  /** Vigil environment (runtime tuning, VIGIL_CONFIG etc.) for a given allow sample rate. */
  env(allowSampleRate: number): Record<string, string>;
  headers: {
    bypass: Record<string, string>;
    session: Record<string, string>;
    full: Record<string, string>;
  };
  listEntries: number;
  /** The seeded session tokens: a plain session, and a stepped-up one from PUBLIC_CLIENT. */
  tokens: { plain: string; stepped: string };
}

/** Writes the list, policy and configs into dir and seeds Redis. */
export async function prepareScenario(dir: string, redisUrl: string): Promise<Scenario> {
  const listPath = join(dir, "reputation-100k.txt");
  const listEntries = writeReputationList(listPath, LIST_ENTRIES, Number(PUBLIC_CLIENT.split(".")[0]));
  const policyPath = join(dir, "policy.yaml");
  writeFileSync(policyPath, POLICY);
  const tokens = await seedSessions(redisUrl);
  const base = {
    "User-Agent": USER_AGENT,
    Accept: "application/json",
    "X-Forwarded-Method": "GET",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": HOST,
  };
  return {
    env(allowSampleRate) {
      const configPath = join(dir, `vigil-${allowSampleRate}.yaml`);
      writeFileSync(configPath, vigilConfig(listPath, allowSampleRate));
      return {
        // Started as `bun start` and the image start it (src/runtime-tuning.ts).
        ...RUNTIME_ENV,
        VIGIL_CONFIG: configPath,
        VIGIL_POLICY: policyPath,
        REDIS_URL: redisUrl,
        VIGIL_TRUSTED_PROXIES: `${LOOPBACK}/32`,
      };
    },
    headers: {
      bypass: { ...base, "X-Forwarded-Uri": "/public/logo.svg" },
      session: {
        ...base,
        "X-Forwarded-Uri": "/app/page",
        Cookie: `theme=dark; vigil_session=${tokens.plain}`,
      },
      full: {
        ...base,
        "X-Forwarded-Uri": "/admin/users?page=2",
        "X-Forwarded-For": PUBLIC_CLIENT,
        Cookie: `theme=dark; vigil_session=${tokens.stepped}`,
      },
    },
    listEntries,
    tokens,
  };
}
