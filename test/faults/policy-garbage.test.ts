/**
 * The policy file is replaced by garbage while requests flow, against a real Vigil process
 * (`bun src/main.ts`): the old policy keeps serving — no request sees a different answer —
 * and the refusal is logged and counted in vigil_policy_reloads_total{result="error"}.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forwardHeaders } from "../helpers/forward-headers.ts";
import { type RedisHandle, startRedis, storesOn } from "../helpers/redis-server.ts";
import { signIn } from "../helpers/vigil.ts";
import { spawnConfiguredVigil, type VigilProcess } from "../helpers/vigil-process.ts";

const POLICY = `
rules:
  - { name: public, paths: ["/public/**"], action: bypass }
  - { name: closed, paths: ["/closed/**"], action: deny }
  - { name: app, hosts: ["app.example.com"], action: authenticated }
default: deny
`;

const GARBAGE = [
  'rules: [ { name: app, hosts: ["app.example.com", action: bypass', // broken YAML
  "rules:\n  - { name: app, paths: ['/**'], action: allow-everyone }\n", // unknown action
  "\u0000\u0001\u0002 not a policy at all \uFFFD",
];

let dir: string;
let redis: RedisHandle;
let vigil: VigilProcess;
let policyPath: string;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vigil-garbage-"));
  policyPath = join(dir, "policy.yaml");
  writeFileSync(policyPath, POLICY);
  redis = await startRedis({ own: true });
  const { stores, close } = await storesOn(redis.url);
  const session = await signIn(stores, { id: "alice" }, Date.now(), { amr: ["hwk"], ip: "198.51.100.23" });
  token = session.token;
  close();
  const high = "{ session: 1000000000, user: 1000000000, ip: 1000000000 }";
  vigil = await spawnConfiguredVigil({
    dir,
    redisUrl: redis.url,
    policyPath,
    config: `public_url: http://auth.localhost\nrisk: { rate: { soft: ${high}, hard: ${high} } }\n`,
  });
}, 30_000);

afterAll(async () => {
  await vigil?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Four requests whose answers the policy fixes; the same answers must hold through the garbage. */
const CASES = [
  { uri: "/public/logo.svg", cookie: false, expected: 200 },
  { uri: "/closed/secret", cookie: true, expected: 403 },
  { uri: "/app/page", cookie: true, expected: 200 },
  { uri: "/app/page", cookie: false, expected: 401 },
] as const;

async function reloadErrors(): Promise<number> {
  const text = await (await fetch(`${vigil.url}/metrics`)).text();
  const match = /^vigil_policy_reloads_total\{result="error"\} (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

test("garbage policy mid-load: the old policy keeps answering, the refusal is logged and counted", async () => {
  const mismatches: string[] = [];
  let answered = 0;
  let running = true;
  const workers = Array.from({ length: 8 }, async (_, i) => {
    const which = CASES[i % CASES.length]!;
    const headers = forwardHeaders(which.uri, which.cookie ? { Cookie: `vigil_session=${token}` } : {});
    while (running) {
      const response = await fetch(`${vigil.url}/auth`, { headers, redirect: "manual" });
      await response.arrayBuffer();
      answered++;
      if (response.status !== which.expected) mismatches.push(`${which.uri}: ${response.status}`);
    }
  });

  expect(await reloadErrors()).toBe(0);
  await Bun.sleep(300);
  for (const garbage of GARBAGE) {
    writeFileSync(policyPath, garbage);
    // Each refused reload is counted: wait for it (bounded), while the workers keep asking.
    const before = await reloadErrors();
    const deadline = Date.now() + 3_000;
    while ((await reloadErrors()) === before && Date.now() < deadline) await Bun.sleep(25);
    await Bun.sleep(300);
  }
  running = false;
  await Promise.all(workers);

  expect(answered).toBeGreaterThan(100);
  expect(mismatches).toEqual([]);
  const errors = await reloadErrors();
  expect(errors).toBeGreaterThanOrEqual(GARBAGE.length);
  const refusals = vigil
    .logLines()
    .filter((line) => line.includes("policy reload refused"))
    .map((line) => JSON.parse(line) as { level: string; err: string });
  expect(refusals.length).toBeGreaterThanOrEqual(GARBAGE.length);
  for (const refusal of refusals) {
    expect(refusal.level).toBe("error");
    expect(refusal.err.length).toBeGreaterThan(0);
  }
  console.log(
    `policy garbage: ${answered} answers during ${GARBAGE.length} garbage writes, 0 changed; ` +
      `vigil_policy_reloads_total{result="error"} = ${errors}, ${refusals.length} error lines logged`,
  );
}, 30_000);
