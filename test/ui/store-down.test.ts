/**
 * With Redis down, people get words, not codes: the portal's JSON endpoints answer with a message
 * the sign-in page shows, and pages answer with the shared error page. Real Redis, stopped.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";

let redis: RedisHandle;
let vigil: TestVigil;
let token: string;

beforeAll(async () => {
  redis = await startRedis({ own: true });
  vigil = await startVigil({ store: { redisUrl: redis.url } });
  ({ token } = await signIn(vigil.stores, { id: "alice" }, vigil.clock.now));
  await redis.stop();
});
afterAll(async () => {
  await vigil?.close();
  await redis?.stop();
});

test("a ceremony endpoint: a JSON message the page can show, not a bare code", async () => {
  const answer = await fetch(`${vigil.url}/webauthn/login/options`, {
    method: "POST",
    headers: {
      origin: vigil.config.publicOrigin,
      "content-type": "application/json",
      accept: "application/json",
    },
    body: "{}",
  });
  expect(answer.status).toBe(503);
  const body = (await answer.json()) as { error: string; message?: string };
  expect(body.error).toBe("store_unavailable");
  expect(body.message).toContain("retry");
}, 20_000);

test("a page: the shared error page for a browser", async () => {
  const answer = await fetch(`${vigil.url}/account`, {
    headers: { cookie: `vigil_session=${token}`, accept: "text/html" },
  });
  expect(answer.status).toBe(503);
  expect(answer.headers.get("content-type")).toContain("text/html");
  expect(answer.headers.get("retry-after")).toBe("1");
  expect(await answer.text()).toContain("Temporarily unavailable");
}, 20_000);
