/**
 * Provider settings as `vigil check` and a start see them: a missing or inline secret, an
 * insecure issuer or a duplicate id stop with the field named; `--probe-oidc` fetches discovery
 * from the real IdP; a Vigil process whose IdP is down starts anyway, warns and answers 503 on
 * that provider's sign-in. The client secret is never printed.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startTestIdp, type TestIdp, testClient } from "../helpers/oidc-idp.ts";
import { runCli, spawnVigilProcess, tempFile } from "../helpers/vigil-process.ts";

// A real IdP and Vigil processes: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const SECRET = "check-secret-must-never-be-printed-0123";
let idp: TestIdp;

beforeAll(async () => {
  idp = await startTestIdp({
    clients: [testClient({ redirectUri: "http://localhost:8080/oidc/corp/callback", clientSecret: SECRET })],
    users: [],
  });
}, 30_000);

afterAll(async () => {
  await idp?.stop();
});

const provider = (extra: Record<string, unknown> = {}) => ({
  id: "corp",
  name: "Corp",
  issuer: idp.issuer,
  client_id: "vigil",
  client_secret_env: "CORP_OIDC_SECRET",
  stepup_acr_values: ["mfa"],
  ...extra,
});

const check = (
  providers: unknown[],
  env: Record<string, string> = { CORP_OIDC_SECRET: SECRET },
  args: string[] = [],
) =>
  runCli(["check", ...args], {
    VIGIL_CONFIG: tempFile("oidc.yaml", JSON.stringify({ oidc: { providers } })),
    ...env,
  });

describe("vigil check with oidc.providers", () => {
  test("valid settings → 0, the callback URL shown, the secret not", async () => {
    const result = await check([provider()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("oidc provider corp ok");
    expect(result.stdout).toContain("/oidc/corp/callback");
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  test("a secret missing from the environment → 2, naming the key and the variable", async () => {
    const result = await check([provider()], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("oidc.providers.0.client_secret_env");
    expect(result.stderr).toContain("CORP_OIDC_SECRET");
  });

  test("a secret file that cannot be read → 2; a readable one → 0", async () => {
    const missing = await check([
      provider({ client_secret_env: undefined, client_secret_file: "/nonexistent/secret" }),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("oidc.providers.0.client_secret_file");
    const file = tempFile("secret", `${SECRET}\n`);
    const ok = await check([provider({ client_secret_env: undefined, client_secret_file: file })], {});
    expect(ok.code).toBe(0);
  });

  test("an inline client_secret, both secret sources, an http issuer elsewhere, duplicate ids → 2", async () => {
    const inline = await check([provider({ client_secret: SECRET })]);
    expect(inline.code).toBe(2);
    expect(inline.stderr).toContain("client_secret");
    expect(inline.stderr).not.toContain(SECRET);
    const both = await check([provider({ client_secret_file: "/x" })]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("exactly one of client_secret_env or client_secret_file");
    const http = await check([provider({ issuer: "http://idp.example.com" })]);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain("oidc.providers.0.issuer");
    const duplicate = await check([provider(), provider({ name: "again" })]);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain("unique");
  });

  test("jit without allowed_domains/groups is noted", async () => {
    const result = await check([provider({ provisioning: "jit" })]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("admits anyone");
  });

  test("--probe-oidc: discovery from the real IdP → 0 with what it offers; an unreachable one → 1", async () => {
    const ok = await check([provider()], undefined, ["--probe-oidc"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(
      "oidc provider corp discovery ok (end_session, backchannel_logout, acr_values pwd mfa)",
    );
    const down = await check([provider({ issuer: "http://127.0.0.1:9" })], undefined, ["--probe-oidc"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("oidc provider corp: discovery failed");
  });
});

test("a Vigil whose IdP is unreachable starts, warns, and answers 503 on that provider's sign-in", async () => {
  const vigil = await spawnVigilProcess(
    {
      VIGIL_CONFIG: tempFile(
        "down.yaml",
        JSON.stringify({ oidc: { providers: [provider({ issuer: "http://127.0.0.1:9" })] } }),
      ),
      CORP_OIDC_SECRET: SECRET,
      VIGIL_LOG_LEVEL: "info",
    },
    { readyPath: "/healthz" },
  );
  try {
    const login = await fetch(`${vigil.url}/oidc/corp/login`, { headers: { accept: "application/json" } });
    expect(login.status).toBe(503);
    const deadline = Date.now() + 5_000;
    while (!vigil.output().includes("oidc provider unreachable") && Date.now() < deadline)
      await Bun.sleep(50);
    expect(vigil.output()).toContain("oidc provider unreachable");
    expect(vigil.output()).not.toContain(SECRET);
  } finally {
    await vigil.stop();
  }
}, 30_000);
