/**
 * An enrollment link is a secret, and it travels in the path (/enroll/<token>). When the store
 * fails while such a page is served, the answer is an error and the log line names the route
 * (`/enroll/:token`), never the token. Real Redis, stopped under a running Vigil.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { createLogger } from "../../src/observe/logger.ts";
import { mintEnrollment } from "../../src/webauthn/enrollment.ts";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

let redis: RedisHandle;
let vigil: TestVigil;
const logLines: string[] = [];

beforeAll(async () => {
  redis = await startRedis({ own: true });
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  vigil = await startVigil({
    store: { redisUrl: redis.url },
    deps: { logger: createLogger("info", sink) },
  });
});
afterAll(async () => {
  await vigil?.close();
  await redis?.stop();
});

test("a store failure on /enroll/<token> answers 503 and logs the route, not the token", async () => {
  const { token } = await mintEnrollment(vigil.deps, { userId: "erin" }, vigil.clock.now);
  const live = await fetch(`${vigil.url}/enroll/${token}`);
  expect(live.status).toBe(200);
  await live.arrayBuffer();

  await redis.stop();
  const failed = await fetch(`${vigil.url}/enroll/${token}`);
  expect(failed.status).toBe(503);
  await failed.arrayBuffer();

  const errors = logLines.filter((line) => line.includes("store unavailable"));
  expect(errors.length).toBeGreaterThan(0);
  expect(errors.at(-1)).toContain("/enroll/:token");
  expect(logLines.join("\n")).not.toContain(token);
});
