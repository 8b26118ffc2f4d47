/**
 * Redis memory per user, passkey, session and active client IP, measured on a throwaway
 * redis-server through Vigil's own Redis stores: `INFO memory` used_memory before and after
 * creating N of each, divided by N (and `MEMORY USAGE` of one key of each kind, for comparison).
 *
 *   bun bench/redis-memory.ts            # N = 10000
 *   bun bench/redis-memory.ts 50000
 *
 * "Active" = one decision in the current rate window: a session's decision adds its rate counters
 * (session, user, IP) and its last-seen fields; an anonymous client adds its IP's rate counter.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createRedisClient,
  createRedisStores,
  keyLayout,
  waitForRedis,
} from "../src/adapters/redis/index.ts";
import { parseSessionId } from "../src/session/token.ts";
import { spawnRedis, stopProcess } from "./lib.ts";

const N = Number(process.argv[2] ?? 10_000);
const PREFIX = "vigil:";
const RATE_WINDOW_MS = 60_000;
const HOUR = 3_600_000;
/** An ES256 passkey's COSE public key is 77 bytes: 103 base64url characters. */
const PUBLIC_KEY = "p".repeat(103);

const dir = mkdtempSync(join(tmpdir(), "vigil-redis-memory-"));
const redis = await spawnRedis(dir);
const client = createRedisClient(redis.url, { commandTimeoutMs: 5_000 });
await waitForRedis(client, 5_000);
const stores = createRedisStores(client, PREFIX);
const keys = keyLayout(PREFIX);

const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info("memory"))?.[1]);
const ip = (i: number, block: number) => `10.${block}.${(i >> 8) & 255}.${i & 255}`;

/** Runs `work(i)` for i in [0, N), 500 at a time, and returns the used_memory growth per item. */
async function perItem(work: (i: number) => Promise<unknown>): Promise<number> {
  const before = await usedMemory();
  for (let start = 0; start < N; start += 500) {
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(N, start + 500); i++) batch.push(work(i));
    await Promise.all(batch);
  }
  return ((await usedMemory()) - before) / N;
}

const now = Date.now();
const sessionIds: string[] = [];
const rows: Array<[string, number, string]> = [];
try {
  const user = await perItem((i) =>
    stores.users.put({
      id: `user-${i}@example.com`,
      displayName: `User ${i}`,
      status: "active",
      groups: ["staff", "engineering"],
      createdAt: now,
    }),
  );
  rows.push(["user (record + entry in the user list)", user, "{u:<id>}:user"]);

  const passkey = await perItem((i) =>
    stores.credentials.add({
      id: `credential-${i}-${"c".repeat(40)}`,
      userId: `user-${i}@example.com`,
      publicKey: PUBLIC_KEY,
      counter: 0,
      transports: ["internal", "hybrid"],
      deviceType: "multiDevice",
      backedUp: true,
      createdAt: now,
      lastUsedAt: 0,
      label: "00000000-0000-0000-0000-000000000000",
    }),
  );
  rows.push(["passkey (record, its owner key, the user's passkey index)", passkey, "{u:<id>}:cred:<id>"]);

  const session = await perItem(async (i) => {
    const created = await stores.sessions.create(
      {
        userId: `user-${i}@example.com`,
        acr: "passkey",
        amr: ["hwk", "user"],
        authAt: now,
        stepUpAt: 0,
        ip: ip(i, 1),
        country: "DE",
        uaHash: "0123456789abcdef",
      },
      now,
      12 * HOUR,
    );
    sessionIds[i] = created.session.id;
  });
  rows.push(["session (record, the user's session index by expiry)", session, "{u:<id>}:s:<hash>"]);

  const activeSession = await perItem((i) =>
    stores.decisions.read({
      sessionId: sessionIds[i],
      userId: undefined,
      clientKey: ip(i, 1),
      now: now + 1_000,
      rateWindowMs: RATE_WINDOW_MS,
      location: { lat: 52.52, lon: 13.4 },
      idleTimeoutMs: HOUR,
    }),
  );
  rows.push([
    "a session's first decision in a rate window (session + user + IP counters, last seen)",
    activeSession,
    "",
  ]);

  const activeIp = await perItem((i) =>
    stores.decisions.read({
      sessionId: undefined,
      userId: undefined,
      clientKey: ip(i, 2),
      now: now + 1_000,
      rateWindowMs: RATE_WINDOW_MS,
      location: undefined,
      idleTimeoutMs: HOUR,
    }),
  );
  rows.push(["an anonymous client IP's first decision in a rate window", activeIp, ""]);

  const usage = async (key: string) => Number(await client.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
  const firstSession = parseSessionId(sessionIds[0]!)!;
  const sample: Record<string, number> = {
    "{u:<id>}:user": await usage(keys.user("user-0@example.com")),
    "{u:<id>}:cred:<id>": await usage(
      keys.credential("user-0@example.com", `credential-0-${"c".repeat(40)}`),
    ),
    "{u:<id>}:s:<hash>": await usage(keys.session(firstSession.userId, firstSession.hash)),
  };
  const version = /redis_version:(\S+)/.exec(await client.info("server"))?.[1];
  console.log(`Redis ${version}, N = ${N}, used_memory growth per item (MEMORY USAGE of one key):`);
  for (const [what, bytes, key] of rows) {
    const one = key === "" ? "" : ` (${key}: ${sample[key]} B)`;
    console.log(`  ${what}: ${Math.round(bytes)} B${one}`);
  }
} finally {
  client.disconnect();
  await stopProcess(redis.child);
  rmSync(dir, { recursive: true, force: true });
}
