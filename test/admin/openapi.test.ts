/**
 * The admin API's OpenAPI document against the routes it describes: every route registered is in
 * the document (and nothing else), real answers from a Vigil on a real Redis match the documented
 * status and schema, the document is served behind the admin token, and docs/admin-api.md is the
 * committed rendering of it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createMemoryStores } from "../../src/adapters/memory/index.ts";
import { resolveConfig } from "../../src/config/load.ts";
import { ADMIN_ROUTES } from "../../src/http/admin/contract.ts";
import { adminRoutes } from "../../src/http/admin/index.ts";
import {
  ADMIN_API_DOC,
  adminOpenApiDocument,
  openApiPath,
  renderAdminApiMarkdown,
} from "../../src/http/admin/openapi.ts";
import { createLogger } from "../../src/observe/logger.ts";
import { createMetrics } from "../../src/observe/metrics.ts";
import { type RedisHandle, startRedis } from "../helpers/redis-server.ts";
import { signIn, startVigil, type TestVigil } from "../helpers/vigil.ts";
import { TEST_POLICY } from "./forwarded.ts";

const TOKEN = "admin-token-for-openapi-0123456789abcdef";

let redis: RedisHandle;
let vigil: TestVigil;

beforeAll(async () => {
  redis = await startRedis();
  vigil = await startVigil({
    config: { admin: { token: TOKEN } },
    policyText: TEST_POLICY,
    store: { redisUrl: redis.url },
  });
});

afterAll(async () => {
  await vigil?.close();
  await redis?.stop();
});

/** Calls one documented operation and checks its answer against the document's status and schema. */
async function call(operationId: string, params: Record<string, string> = {}, body?: unknown) {
  const route = ADMIN_ROUTES.find((r) => r.operationId === operationId)!;
  const path = route.path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(params[name]!));
  const response = await fetch(`${vigil.url}${path}`, {
    method: route.method.toUpperCase(),
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  expect({ operationId, status: response.status }).toEqual({ operationId, status: route.status });
  const parsed = route.response.safeParse(json);
  if (!parsed.success) throw new Error(`${operationId}: ${parsed.error.message}\n${JSON.stringify(json)}`);
  return json as Record<string, unknown>;
}

describe("the admin API's OpenAPI document", () => {
  test("lists exactly the routes the admin sub-app registers", () => {
    const config = resolveConfig({ public_url: "http://auth.localhost", admin: { token: TOKEN } });
    const app = adminRoutes({
      config,
      stores: createMemoryStores(),
      clock: Date.now,
      logger: createLogger("silent"),
      metrics: createMetrics({ defaultMetrics: false }),
    });
    // Middleware and the catch-all 404 register as ALL; every endpoint has its own method.
    const registered = app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => `${route.method.toLowerCase()} ${openApiPath(route.path)}`);
    const paths = adminOpenApiDocument().paths;
    const documented = Object.entries(paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    );
    expect([...new Set(registered)].sort()).toEqual(documented.sort());
  });

  test("real answers have the documented status and shape", async () => {
    const minted = await call("mint_enrollment", { user: "olive" }, { groups: ["staff"] });
    expect(minted.url).toContain("/enroll/");
    await call("list_users");
    expect((await call("get_user", { user: "olive" })).user).toMatchObject({ sessions: 0, passkeys: 0 });
    const { sessionId } = await signIn(vigil.stores, { id: "olive", groups: ["staff"] }, Date.now(), {
      stepUpAt: Date.now(),
    });
    await vigil.stores.credentials.add({
      id: "cred-olive",
      userId: "olive",
      publicKey: "pQECAyYgASFYIA",
      counter: 0,
      transports: ["internal"],
      deviceType: "multiDevice",
      backedUp: true,
      createdAt: Date.now(),
      lastUsedAt: 0,
      label: "passkey",
    });
    expect((await call("list_sessions", { user: "olive" })).sessions).toHaveLength(1);
    expect((await call("list_passkeys", { user: "olive" })).credentials).toHaveLength(1);
    await call("set_groups", { user: "olive" }, { groups: ["staff", "admins"] });
    await call("suspend", { user: "olive" });
    await call("resume", { user: "olive" });
    const again = await signIn(vigil.stores, { id: "olive" }, Date.now());
    expect(again.sessionId).not.toBe(sessionId);
    await call("revoke_session", { id: again.sessionId });
    await call("revoke_user_sessions", { user: "olive" });
    await call("delete_passkey", { user: "olive", id: "cred-olive" });
    expect(await call("openapi")).toEqual(JSON.parse(JSON.stringify(adminOpenApiDocument())));
  });

  test("refusals have the documented error shape; the document needs the admin token", async () => {
    const missing = await fetch(`${vigil.url}/admin/users/nobody`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "user_not_found", message: expect.any(String) });
    const anonymous = await fetch(`${vigil.url}/admin/openapi.json`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: string }).error).toBe("unauthorized");
  });

  test("every route documents 503 for a store failure; security writes name not_confirmed", () => {
    const paths = adminOpenApiDocument().paths as Record<
      string,
      Record<string, { operationId: string; responses: Record<string, { description: string }> }>
    >;
    const confirmed = Object.values(paths)
      .flatMap((methods) => Object.values(methods))
      .filter((operation) => {
        expect([operation.operationId, operation.responses["503"]?.description]).toEqual([
          operation.operationId,
          expect.stringContaining("store_unavailable"),
        ]);
        return operation.responses["503"]!.description.includes("not_confirmed");
      })
      .map((operation) => operation.operationId);
    expect(confirmed.sort()).toEqual(
      [
        "delete_passkey",
        "delete_user",
        "resume",
        "revoke_session",
        "revoke_user_sessions",
        "set_groups",
        "suspend",
      ].sort(),
    );
  });

  test("docs/admin-api.md is the committed rendering of the document (bun run docs:admin-api)", () => {
    expect(readFileSync(ADMIN_API_DOC, "utf8")).toBe(renderAdminApiMarkdown());
  });
});
