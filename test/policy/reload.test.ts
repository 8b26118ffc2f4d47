/** Hot reload through a real file watch: a valid change applies, a broken file is refused. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

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

beforeAll(async () => {
  writeFileSync(path, "rules:\n  - { name: reports, paths: ['/reports'], action: bypass }\n");
  vigil = await startVigil({ policyPath: path, store: "memory" });
});
afterAll(async () => vigil?.close());

test("a valid change applies on the next request", async () => {
  expect(await status()).toBe(200);
  writeFileSync(path, "rules:\n  - { name: reports, paths: ['/reports'], action: deny }\n");
  expect(await eventually(async () => (await status()) === 403)).toBe(true);
  expect(vigil.deps.policy.current().rules[0]!.action).toBe("deny");
});

test("a file replaced atomically (rename, like editors and ConfigMaps) is picked up", async () => {
  const staged = join(dir, ".policy.tmp");
  writeFileSync(staged, "rules:\n  - { name: reports, paths: ['/reports'], action: bypass }\n");
  renameSync(staged, path);
  expect(await eventually(async () => (await status()) === 200)).toBe(true);
});

test("a broken file is refused, counted, and the old rules keep serving", async () => {
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
