/** Hot reload through a real file watch: a valid change applies, a broken file is refused. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";
import { spawnVigilProcess } from "../helpers/vigil-process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-policy-"));
const path = join(dir, "policy.yaml");
let vigil: TestVigil;

const HEADERS = {
  "X-Forwarded-Method": "GET",
  "X-Forwarded-Host": "app.example.com",
  "X-Forwarded-Uri": "/reports",
  "X-Forwarded-For": "203.0.113.7",
  Accept: "application/json",
};
const status = async () => (await fetch(`${vigil.url}/auth`, { headers: HEADERS })).status;

/** Polls until the condition holds or the bound runs out (file watches are asynchronous). */
async function eventually(condition: () => Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await condition()) return true;
    await Bun.sleep(25);
  }
  return condition();
}

const reloadCount = async (result: string) => {
  const text = await (await fetch(`${vigil.url}/metrics`)).text();
  return Number(new RegExp(`vigil_policy_reloads_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
};

/**
 * Writes the one-rule policy with this action and waits until it serves: each test starts from the
 * state it names, so the tests pass alone and in any order.
 */
async function serving(action: "bypass" | "deny"): Promise<void> {
  writeFileSync(path, `rules:\n  - { name: reports, paths: ['/reports'], action: ${action} }\n`);
  const expected = action === "bypass" ? 200 : 403;
  if (!(await eventually(async () => (await status()) === expected)))
    throw new Error(`${action} never served`);
}

beforeAll(async () => {
  writeFileSync(path, "rules:\n  - { name: reports, paths: ['/reports'], action: bypass }\n");
  vigil = await startVigil({ policyPath: path, store: "memory" });
});
afterAll(async () => vigil?.close());

test("a valid change applies on the next request", async () => {
  await serving("bypass");
  expect(await status()).toBe(200);
  writeFileSync(path, "rules:\n  - { name: reports, paths: ['/reports'], action: deny }\n");
  expect(await eventually(async () => (await status()) === 403)).toBe(true);
  expect(vigil.deps.policy.current().rules[0]!.action).toBe("deny");
});

test("a file replaced atomically (rename, like editors and ConfigMaps) is picked up", async () => {
  await serving("deny");
  const staged = join(dir, ".policy.tmp");
  writeFileSync(staged, "rules:\n  - { name: reports, paths: ['/reports'], action: bypass }\n");
  renameSync(staged, path);
  expect(await eventually(async () => (await status()) === 200)).toBe(true);
});

test("a broken file is refused, counted, and the old rules keep serving", async () => {
  await serving("bypass");
  const before = vigil.deps.policy.current().version;
  const errorsBefore = await reloadCount("error");
  writeFileSync(path, "rules:\n  - { name: reports, paths: ['/reports'], action: explode }\n");
  expect(await eventually(async () => (await reloadCount("error")) > errorsBefore)).toBe(true);
  expect(vigil.deps.policy.current().version).toBe(before);
  expect(await status()).toBe(200);
  writeFileSync(path, "rules: [ {");
  expect(await eventually(async () => (await reloadCount("error")) > errorsBefore + 1)).toBe(true);
  expect(await status()).toBe(200);
});

test("a truncated write (0 bytes, then blank lines) is refused and counted; the old rules keep serving", async () => {
  await serving("bypass");
  const before = vigil.deps.policy.current().version;
  for (const text of ["", "\n   \n# nothing yet\n"]) {
    const errorsBefore = await reloadCount("error");
    writeFileSync(path, text);
    expect(await eventually(async () => (await reloadCount("error")) > errorsBefore)).toBe(true);
    expect(vigil.deps.policy.current().version).toBe(before);
    expect(await status()).toBe(200);
  }
  // Written on purpose, a policy without rules is `rules: []`: it loads, and the default denies.
  writeFileSync(path, "rules: []\n");
  expect(await eventually(async () => (await status()) === 403)).toBe(true);
  expect(vigil.deps.policy.current().rules).toHaveLength(0);
});

test("a Vigil process logs the refused empty file at error level and keeps answering as before", async () => {
  const policyPath = join(dir, "process-policy.yaml");
  writeFileSync(policyPath, "rules:\n  - { name: reports, paths: ['/reports'], action: bypass }\n");
  const vigilProcess = await spawnVigilProcess(
    { VIGIL_POLICY: policyPath, VIGIL_LOG_LEVEL: "info", VIGIL_TRUSTED_PROXIES: "127.0.0.1/32" },
    { readyPath: "/healthz" },
  );
  try {
    const ask = async () => (await fetch(`${vigilProcess.url}/auth`, { headers: HEADERS })).status;
    expect(await ask()).toBe(200);
    writeFileSync(policyPath, "");
    const refusal = () =>
      vigilProcess
        .logLines()
        .map((line) => {
          try {
            return JSON.parse(line) as { level: string; msg: string; err?: string };
          } catch {
            return undefined;
          }
        })
        .find((entry) => entry?.msg.startsWith("policy reload refused"));
    expect(await eventually(async () => refusal() !== undefined)).toBe(true);
    expect(refusal()!.level).toBe("error");
    expect(refusal()!.err).toContain("policy file is empty");
    expect(await ask()).toBe(200);
  } finally {
    await vigilProcess.stop();
  }
}, 30_000);
