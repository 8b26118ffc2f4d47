/**
 * The first-admin link with several replicas: two real Vigil processes start together on an empty
 * (real) Redis and each prints a working link; a restart before the admin enrolled prints a fresh
 * one; once the admin has enrolled (through a replica, with a passkey) every other printed link is
 * refused and a restart prints none.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { type RedisHandle, startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { type VigilProcess as Replica, spawnReplica, tempFile } from "../helpers/vigil-process.ts";
import { PortalClient } from "../portal/client.ts";
import type { Portal } from "../portal/harness.ts";
import { SoftAuthenticator } from "../portal/soft-authenticator.ts";

// Vigil processes on a shared Redis: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

let redis: RedisHandle;
let stores: Stores;
let env: Record<string, string>;
const replicas: Replica[] = [];

const LINK = /https?:\/\/\S+\/enroll\/([A-Za-z0-9_-]{43})/;

/**
 * What a replica printed on stdout up to its "vigil listening" line: the first-admin link, when
 * there is one, comes before it (it is printed before the server starts).
 */
async function startupOutput(replica: Replica): Promise<string> {
  const end = Date.now() + 10_000;
  for (;;) {
    const output = replica.output();
    const listening = output.indexOf('"msg":"vigil listening"');
    if (listening >= 0) return output.slice(0, listening);
    if (Date.now() > end) throw new Error(`no "vigil listening" line: ${output}`);
    await Bun.sleep(25);
  }
}

const printedToken = async (replica: Replica) => LINK.exec(await startupOutput(replica))?.[1];

async function start(replicaEnv = env): Promise<Replica> {
  const replica = await spawnReplica({ ...replicaEnv, VIGIL_LOG_LEVEL: "info" });
  replicas.push(replica);
  return replica;
}

/** A browser stand-in on the replica's own public origin (http://localhost:<port>). */
function browserFor(replica: Replica): { client: PortalClient; soft: SoftAuthenticator } {
  const origin = `http://localhost:${new URL(replica.url).port}`;
  const client = new PortalClient({ url: replica.url, origin } as Portal, "127.0.0.1");
  return { client, soft: new SoftAuthenticator(origin) };
}

beforeAll(async () => {
  redis = await startRedis();
  const prefix = uniquePrefix();
  const client = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await waitForRedis(client, 5000);
  stores = createRedisStores(client, prefix);
  env = {
    REDIS_URL: redis.url,
    VIGIL_CONFIG: tempFile("config.yaml", JSON.stringify({ redis: { prefix } })),
  };
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await stores?.health.close();
  await redis?.stop();
});

test("every replica prints a first-admin link until the admin enrolls; then the others die and none is printed", async () => {
  // Two replicas on an empty store, started together: each prints a link of its own.
  const [a, b] = await Promise.all([start(), start()]);
  const [tokenA, tokenB] = await Promise.all([printedToken(a), printedToken(b)]);
  expect(tokenA).toBeDefined();
  expect(tokenB).toBeDefined();
  expect(tokenA).not.toBe(tokenB);
  expect(await stores.users.get("admin")).toMatchObject({ status: "active", groups: ["admins"] });
  expect(await stores.users.count()).toBe(1);
  for (const token of [tokenA, tokenB]) expect((await fetch(`${a.url}/enroll/${token}`)).status).toBe(200);

  // A restart before the admin enrolled prints a fresh link; the earlier ones still work.
  await b.stop();
  const b2 = await start();
  const tokenB2 = await printedToken(b2);
  expect(tokenB2).toBeDefined();
  expect(tokenB2).not.toBe(tokenB);

  // The admin enrolls with B's first link, through replica A, and ends signed in.
  const { client, soft } = browserFor(a);
  const staleOptions = await client.post("/webauthn/register/options", { token: tokenA });
  expect(staleOptions.status).toBe(200);
  const options = await client.post("/webauthn/register/options", { token: tokenB });
  expect(options.status).toBe(200);
  const { response } = soft.register(options.body as never);
  const enrolled = await client.post("/webauthn/register/verify", { token: tokenB, response });
  expect(enrolled.status).toBe(200);
  expect(await stores.credentials.listByUser("admin")).toHaveLength(1);

  // Every other printed link is now refused, on every replica, even one whose options were
  // fetched before the enrollment: a log reader cannot add a second passkey to the admin.
  for (const replica of [a, b2]) {
    for (const token of [tokenA, tokenB2]) {
      expect((await fetch(`${replica.url}/enroll/${token}`)).status).toBe(410);
    }
  }
  const late = soft.register(staleOptions.body as never);
  const refused = await client.post("/webauthn/register/verify", { token: tokenA, response: late.response });
  expect(refused.status).toBe(410);
  expect(refused.body.error).toBe("link_invalid");
  expect(await stores.credentials.listByUser("admin")).toHaveLength(1);

  // A restart after the enrollment prints no link.
  await a.stop();
  const a2 = await start();
  expect(await startupOutput(a2)).not.toMatch(LINK);
}, 90_000);

test("a store whose users do not include the bootstrap admin is left alone", async () => {
  const prefix = uniquePrefix();
  const otherClient = createRedisClient(redis.url, { commandTimeoutMs: 2000 });
  await waitForRedis(otherClient, 5000);
  const other = createRedisStores(otherClient, prefix);
  try {
    await other.users.put({
      id: "alice",
      displayName: "alice",
      status: "active",
      groups: ["admins"],
      createdAt: 1,
    });
    const replica = await start({
      REDIS_URL: redis.url,
      VIGIL_CONFIG: tempFile("config.yaml", JSON.stringify({ redis: { prefix } })),
    });
    expect(await startupOutput(replica)).not.toMatch(LINK);
    expect(await other.users.get("admin")).toBeUndefined();
  } finally {
    await other.health.close();
  }
}, 60_000);
