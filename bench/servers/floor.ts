/**
 * The floor row: a Bun.serve that reads the forwardAuth headers and makes the one EVALSHA a
 * decision makes, through Vigil's own Redis adapter (the same script, client and batching), then
 * answers 200. No policy, identity, risk or decision logic: what any design with one Redis round
 * trip per request pays. Port from argv[2]; REDIS_URL from the environment.
 */
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import { sessionIdFromToken } from "../../src/session/token.ts";

const client = createRedisClient(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  commandTimeoutMs: 500,
});
await waitForRedis(client, 5_000);
const { decisions } = createRedisStores(client);
const SESSION = /(?:^|;\s*)vigil_session=((?:[A-Za-z0-9_-]{1,344}\.)?[A-Za-z0-9_-]{20,128})/;

const server = Bun.serve({
  port: Number(process.argv[2] ?? 0),
  hostname: "127.0.0.1",
  async fetch(request) {
    const headers = request.headers;
    if (headers.get("x-forwarded-uri") === null) return new Response(null, { status: 200 }); // health probe
    const forwardedFor = headers.get("x-forwarded-for");
    const token = SESSION.exec(headers.get("cookie") ?? "")?.[1];
    try {
      await decisions.read({
        sessionId: token === undefined ? undefined : sessionIdFromToken(token),
        userId: undefined,
        clientKey: forwardedFor ?? "127.0.0.1",
        now: Date.now(),
        rateWindowMs: 60_000,
        location: undefined,
        idleTimeoutMs: 3_600_000,
      });
    } catch {
      return new Response(null, { status: 503 }); // as Vigil answers a failed store read
    }
    return new Response(null, { status: 200 });
  },
});
console.log(`listening ${server.port}`);
