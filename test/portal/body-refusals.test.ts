/**
 * The portal's JSON endpoints refuse a body they cannot use with a clear JSON error and a status
 * that says why, before any ceremony starts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

let vigil: TestVigil;

beforeAll(async () => {
  vigil = await startVigil({ store: "memory" });
});

afterAll(async () => {
  await vigil?.close();
});

async function send(body: string, contentType = "application/json", path = "/webauthn/login/options") {
  const response = await fetch(`${vigil.url}${path}`, {
    method: "POST",
    headers: { "content-type": contentType, origin: vigil.config.publicOrigin },
    body,
  });
  const json = (await response.json()) as { error: string; message: string };
  return { status: response.status, error: json.error, cache: response.headers.get("cache-control") };
}

describe("portal JSON bodies", () => {
  test("not JSON by its media type → 415", async () => {
    expect(await send("{}", "text/plain")).toMatchObject({ status: 415, error: "unsupported_media_type" });
  });

  test("too large → 413", async () => {
    const big = JSON.stringify({ pad: "x".repeat(70 * 1024) });
    expect(await send(big)).toMatchObject({ status: 413, error: "body_too_large" });
  });

  test("not valid JSON → 400 invalid_json; the wrong shape → 400 invalid_request", async () => {
    expect(await send("{nope")).toMatchObject({ status: 400, error: "invalid_json" });
    expect(await send('{"unexpected": true}', "application/json", "/webauthn/login/verify")).toMatchObject({
      status: 400,
      error: "invalid_request",
    });
  });

  test("refusals are never cached; a good body starts the ceremony", async () => {
    expect((await send("{nope")).cache).toContain("no-store");
    expect((await send("{}")).status).toBe(200);
  });
});
