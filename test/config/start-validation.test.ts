/**
 * `vigil check` and the start validate with the same code: what one refuses the other refuses,
 * with exit 2 and a message naming the field or file, never a stack trace. Real processes
 * (`bun src/main.ts`, `bun src/cli.ts check`), no Redis needed: every case stops before it.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/vigil-process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-start-"));
const file = (name: string, text: string) => {
  const path = join(dir, `${crypto.randomUUID()}-${name}`);
  writeFileSync(path, text);
  return path;
};

/** The environment of a newcomer's shell: none of the test runner's Vigil or Redis variables. */
function cleanEnv(env: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name, value]) => value !== undefined && !name.startsWith("VIGIL_") && name !== "REDIS_URL",
    ),
  ) as Record<string, string>;
  return { ...base, VIGIL_CONFIG: file("empty.yaml", ""), VIGIL_PORT: "0", ...env };
}

async function run(args: string[], env: Record<string, string>) {
  const child = Bun.spawn([process.execPath, ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  // A start that does not stop on its own is a failure too: kill it after a bound.
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const STACK_FRAME = /^\s+at\s/m;

const cases: Array<[string, () => Record<string, string>, RegExp]> = [
  [
    "a CIDR prefix out of range in trusted_proxies (config file)",
    () => ({ VIGIL_CONFIG: file("proxies.yaml", 'trusted_proxies: ["10.0.0.0/33"]\n') }),
    /trusted_proxies\.0: "10\.0\.0\.0\/33" is not an IP address or CIDR/,
  ],
  [
    "an IPv6 prefix out of range in VIGIL_TRUSTED_PROXIES",
    () => ({ VIGIL_TRUSTED_PROXIES: "10.0.0.0/8,fd00::/129" }),
    /trusted_proxies\.1: "fd00::\/129"/,
  ],
  [
    "an address that only looks like one (octal-looking octet)",
    () => ({ VIGIL_TRUSTED_PROXIES: "10.0.0.010/32" }),
    /trusted_proxies\.0/,
  ],
  [
    "a VIGIL_POLICY file that does not exist",
    () => ({ VIGIL_POLICY: join(dir, "no-such-policy.yaml") }),
    /policy .*no-such-policy\.yaml: file not found/,
  ],
  [
    "a 0-byte policy file",
    () => ({ VIGIL_POLICY: file("empty-policy.yaml", "") }),
    /policy .*empty-policy\.yaml: policy file is empty.*rules: \[\]/,
  ],
  [
    "a policy file of blank lines and comments",
    () => ({ VIGIL_POLICY: file("blank-policy.yaml", "\n  \n# rules to come\n") }),
    /policy file is empty/,
  ],
];

describe("the start and `vigil check` refuse the same inputs, naming them, without a stack trace", () => {
  test.each(cases)(
    "%s",
    async (_name, envOf, message) => {
      const env = envOf();
      const [start, check] = await Promise.all([
        run(["src/main.ts"], env),
        run(["src/cli.ts", "check"], env),
      ]);
      expect(start.code).toBe(2);
      expect(start.stderr).toMatch(message);
      expect(start.stderr).not.toMatch(STACK_FRAME);
      expect(start.stdout).not.toContain("vigil listening");
      expect(check.code).toBe(2);
      expect(check.stderr).toMatch(message);
      expect(check.stderr).not.toMatch(STACK_FRAME);
    },
    30_000,
  );

  test("an intentionally empty policy (`rules: []`) passes both: the start listens", async () => {
    const env = { VIGIL_POLICY: file("no-rules.yaml", "rules: []\n"), VIGIL_LOG_LEVEL: "info" };
    const check = await run(["src/cli.ts", "check"], env);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("0 rules");

    const child = Bun.spawn([process.execPath, "src/main.ts"], {
      cwd: ROOT,
      env: cleanEnv(env),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const reader = child.stdout.getReader();
      const decoder = new TextDecoder();
      let seen = "";
      const deadline = Date.now() + 15_000;
      while (!seen.includes("vigil listening") && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += decoder.decode(value, { stream: true });
      }
      expect(seen).toContain("vigil listening");
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  }, 30_000);
});
