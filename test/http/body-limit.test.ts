/**
 * Request bodies are bounded while they are read, on every endpoint that reads one: a chunked
 * upload (no Content-Length) of several MiB to the unauthenticated POST /events and
 * POST /webauthn/* gets 413 with a JSON reason as soon as it passes the endpoint's limit, while the
 * client is still sending, so the server never held the body. Real sockets, real Redis, and a real
 * Vigil process (server.ts's own Bun.serve limit) whose memory is read from /proc.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { MAX_BODY_BYTES, SERVER_MAX_BODY_BYTES } from "../../src/http/read-body.ts";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";
import { spawnVigilProcess } from "../helpers/vigil-process.ts";
import { chunkedUpload } from "./chunked-upload.ts";

const ADMIN_TOKEN = "body-limit-admin-token-0123456789";
const UPLOAD_BYTES = 16 * 1024 * 1024;

let vigil: TestVigil;

beforeAll(async () => {
  vigil = await startVigil({ config: { admin: { token: ADMIN_TOKEN } } });
});
afterAll(async () => {
  await vigil?.close();
});

const portalHeaders = () => ({
  "content-type": "application/json",
  origin: vigil.config.publicOrigin,
  "x-forwarded-for": "203.0.113.7",
});

describe("a chunked body past the limit is refused while it is still arriving", () => {
  test.each([
    ["/webauthn/login/options", "body_too_large"],
    ["/webauthn/login/verify", "body_too_large"],
    ["/webauthn/register/verify", "body_too_large"],
    ["/webauthn/stepup/verify", "body_too_large"],
  ])("POST %s: 413 {error: %s}", async (path, error) => {
    const answer = await chunkedUpload(vigil.url, path, portalHeaders(), { maxBytes: UPLOAD_BYTES });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      error,
      message: expect.stringContaining(String(MAX_BODY_BYTES)),
    });
    expect(answer.headers["cache-control"]).toContain("no-store");
    // Answered after the limit, long before the upload was over: the body was never buffered.
    expect(answer.sentBeforeAnswer).toBeLessThan(UPLOAD_BYTES / 4);
  });

  test("POST /events: 413 {err: invalid_request} (RFC 8935 error shape)", async () => {
    const answer = await chunkedUpload(
      vigil.url,
      "/events",
      { "content-type": "application/secevent+jwt", accept: "application/json" },
      { maxBytes: UPLOAD_BYTES },
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({
      err: "invalid_request",
      description: expect.stringContaining("SET too large"),
    });
    expect(answer.sentBeforeAnswer).toBeLessThan(UPLOAD_BYTES / 4);
  });

  test("POST /admin/*: 413 {error: body_too_large}", async () => {
    const answer = await chunkedUpload(
      vigil.url,
      "/admin/users/body-limit-user/enrollments",
      { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
      { maxBytes: UPLOAD_BYTES },
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "body_too_large" });
    expect(answer.sentBeforeAnswer).toBeLessThan(UPLOAD_BYTES / 4);
    expect(await vigil.stores.users.get("body-limit-user")).toBeUndefined();
  });

  test("a route that never reads its body (/auth): Bun.serve's own limit refuses it", async () => {
    const response = await fetch(`${vigil.url}/auth`, {
      method: "POST",
      headers: { "x-forwarded-host": "app.localhost", "x-forwarded-uri": "/", "x-forwarded-method": "POST" },
      body: new Uint8Array(SERVER_MAX_BODY_BYTES + 1),
    });
    expect(response.status).toBe(413);
    await response.arrayBuffer();
  });
});

describe("bodies within the limit still work", () => {
  test("a chunked JSON body under the limit is read whole", async () => {
    const response = await fetch(`${vigil.url}/webauthn/login/options`, {
      method: "POST",
      headers: portalHeaders(),
      // A stream body is sent chunked (no Content-Length).
      body: new Blob(["{}"]).stream(),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).challenge).toEqual(expect.any(String));
  });

  test("a declared Content-Length over the limit is refused before reading", async () => {
    const response = await fetch(`${vigil.url}/webauthn/login/options`, {
      method: "POST",
      headers: portalHeaders(),
      body: `{"pad":"${"x".repeat(MAX_BODY_BYTES)}"}`,
    });
    expect(response.status).toBe(413);
    expect((await response.json()).error).toBe("body_too_large");
    expect(SERVER_MAX_BODY_BYTES).toBeGreaterThan(MAX_BODY_BYTES);
  });
});

describe("a real Vigil process (bun src/main.ts)", () => {
  const rssMiB = (pid: number) =>
    Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

  test("120 MiB streamed at POST /events: 413 early, and the process's memory does not follow", async () => {
    const vigil = await spawnVigilProcess({}, { readyPath: "/healthz" });
    try {
      const before = rssMiB(vigil.pid);
      const total = 120 * 1024 * 1024;
      const answer = await chunkedUpload(
        vigil.url,
        "/events",
        { "content-type": "application/secevent+jwt" },
        { maxBytes: total },
      );
      expect(answer.status).toBe(413);
      expect(answer.sentBeforeAnswer).toBeLessThan(total / 4);
      expect(rssMiB(vigil.pid) - before).toBeLessThan(40);
      // Bun.serve's own limit, set by server.ts, for a route that never reads its body.
      const auth = await fetch(`${vigil.url}/auth`, {
        method: "POST",
        headers: { "x-forwarded-host": "app.localhost", "x-forwarded-uri": "/" },
        body: new Uint8Array(SERVER_MAX_BODY_BYTES + 1),
      });
      expect(auth.status).toBe(413);
    } finally {
      await vigil.stop();
    }
  }, 30_000);
});
