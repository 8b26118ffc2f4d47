import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, resolveConfig } from "../../src/config/load.ts";
import { runBun } from "../helpers/vigil-process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
/** loadConfig with only the given variables (never the host's ./vigil.yaml: VIGIL_CONFIG is always set). */
const load = (env: Record<string, string>) => loadConfig({ VIGIL_CONFIG: file("empty.yaml", ""), ...env });

describe("defaults", () => {
  test("an empty file is a valid single-replica setup on localhost", () => {
    const config = load({});
    expect(config.port).toBe(8080);
    expect(config.publicOrigin).toBe("http://localhost:8080");
    expect(config.cookieSecure).toBe(false);
    expect(config.rpId).toBe("localhost");
    expect(config.redis.url).toBeUndefined();
    expect(config.redis.write_confirmation).toEqual({ replicas: "auto", timeout: 1_000 });
    expect(config.trusted_proxies).toEqual([]);
    expect(config.admin.token).toBeUndefined();
    expect(config.session).toEqual({
      idle_timeout: 3_600_000,
      absolute_timeout: 43_200_000,
      signin_acr: "passkey",
      max_per_user: 50,
    });
  });
});

describe("environment overrides the file", () => {
  test("every documented variable", () => {
    const config = load({
      VIGIL_CONFIG: file("base.yaml", "port: 9000\nlog: { level: debug }\n"),
      VIGIL_PORT: "9100",
      REDIS_URL: "redis://10.0.0.5:6379/2",
      VIGIL_POLICY: "/etc/vigil/policy.yaml",
      VIGIL_PUBLIC_URL: "https://auth.example.com",
      VIGIL_COOKIE_DOMAIN: "example.com",
      VIGIL_RP_ID: "example.com",
      VIGIL_TRUSTED_PROXIES: "10.0.0.0/8, fd00::/8",
      VIGIL_ADMIN_TOKEN: "x".repeat(32),
      VIGIL_LOG_LEVEL: "warn",
    });
    expect(config.port).toBe(9100);
    expect(config.redis.url).toBe("redis://10.0.0.5:6379/2");
    expect(config.policy_path).toBe("/etc/vigil/policy.yaml");
    expect(config.publicOrigin).toBe("https://auth.example.com");
    expect(config.cookieSecure).toBe(true);
    expect(config.cookie.domain).toBe("example.com");
    expect(config.rpId).toBe("example.com");
    expect(config.trusted_proxies).toEqual(["10.0.0.0/8", "fd00::/8"]);
    expect(config.admin.token).toBe("x".repeat(32));
    expect(config.log.level).toBe("warn");
  });

  test("the file's values stand where no variable is set; durations are parsed", () => {
    const config = load({
      VIGIL_CONFIG: file(
        "durations.yaml",
        "session: { idle_timeout: 15m, absolute_timeout: 8h }\nstepup: { default_max_age: 90 }\n",
      ),
    });
    expect(config.session.idle_timeout).toBe(15 * 60_000);
    expect(config.session.absolute_timeout).toBe(8 * 3_600_000);
    expect(config.stepup.default_max_age).toBe(90_000);
  });
});

describe("an invalid configuration names the field", () => {
  test.each([
    [{ VIGIL_PORT: "eighty" }, /port:/],
    [{ VIGIL_PUBLIC_URL: "http://auth.example.com" }, /public_url: must be https/],
    [{ VIGIL_PUBLIC_URL: "not a url" }, /public_url/],
    [{ VIGIL_TRUSTED_PROXIES: "10.0.0.0/8,office" }, /trusted_proxies\.1/],
    [{ VIGIL_ADMIN_TOKEN: "short" }, /admin\.token: must be at least 24 characters/],
    [{ VIGIL_LOG_LEVEL: "loud" }, /log\.level/],
    [{ VIGIL_PUBLIC_URL: "https://auth.example.com", VIGIL_RP_ID: "other.org" }, /webauthn\.rp_id/],
    [{ VIGIL_PUBLIC_URL: "https://auth.example.com", VIGIL_COOKIE_DOMAIN: "evil.com" }, /cookie\.domain/],
  ] as Array<[Record<string, string>, RegExp]>)("%o", (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  test.each([
    ["session: { idle_timeout: soon }", /session\.idle_timeout: invalid duration/],
    ["session: { idle_timeout: 2d, absolute_timeout: 1d }", /idle_timeout: must not exceed/],
    ["risk: { rate: { soft: { ip: 5000 } } }", /risk\.rate: every soft limit/],
    ["colour: red", /Unrecognized key|colour/],
    ["risk: { ip_lists: [{ name: tor }] }", /risk\.ip_lists\.0\.path/],
    ["- just\n- a list", /top level must be a mapping/],
    ["port: [", /not valid YAML/],
    [
      "redis: { write_confirmation: { timeout: 0 } }",
      /redis\.write_confirmation\.timeout: must be more than 0/,
    ],
    ["redis: { write_confirmation: { replicas: all } }", /redis\.write_confirmation\.replicas/],
    ["redis: { write_confirmation: { replica: 1 } }", /redis\.write_confirmation/],
    ['redis: { prefix: "app{1}:" }', /redis\.prefix: must not contain \{ or \}/],
    ["session: { max_per_user: 0 }", /session\.max_per_user/],
    // A zero window or ban would count nothing (every counter expires as it is made): limits off.
    ["risk: { rate: { window: 0 } }", /risk\.rate\.window: must be at least 1s/],
    ["risk: { rate: { window: 500ms } }", /risk\.rate\.window: must be at least 1s/],
    ["risk: { dynamic_ip: { ttl: 0 } }", /risk\.dynamic_ip\.ttl: must be at least 1s/],
    ["regulation: { find_time: 0 }", /regulation\.find_time: must be at least 1s/],
    ["regulation: { ban_time: 0 }", /regulation\.ban_time: must be at least 1s/],
    ["regulation: { start_window: 0 }", /regulation\.start_window: must be at least 1s/],
    ["events: { jti_ttl: 0 }", /events\.jti_ttl: must be at least 1s/],
    ["redis: { command_timeout: 0 }", /redis\.command_timeout: must be more than 0/],
  ])("%s", (text, message) => {
    const path = file(`bad-${crypto.randomUUID()}.yaml`, text);
    expect(() => load({ VIGIL_CONFIG: path })).toThrow(message);
  });

  test("an explicit VIGIL_CONFIG that does not exist is an error, not the defaults", () => {
    expect(() => loadConfig({ VIGIL_CONFIG: join(dir, "missing.yaml") })).toThrow(
      /VIGIL_CONFIG: file not found/,
    );
  });

  test("resolveConfig reports every bad field at once", () => {
    try {
      resolveConfig({ port: -1, log: { level: "loud" } });
      throw new Error("no error");
    } catch (error) {
      expect((error as Error).message).toMatch(/port:/);
      expect((error as Error).message).toMatch(/log\.level/);
    }
  });
});

test("a bad configuration stops `bun src/main.ts` with exit code 2 and the field in the message", async () => {
  const { code, stderr } = await runBun(["src/main.ts"], {
    VIGIL_CONFIG: file("start.yaml", "session: { idle_timeout: soon }\n"),
    VIGIL_PORT: "0",
  });
  expect(code).toBe(2);
  expect(stderr).toContain("session.idle_timeout");
});

test("a broken policy file stops the start too, naming the rule", async () => {
  const { code, stderr } = await runBun(["src/main.ts"], {
    VIGIL_CONFIG: file("ok.yaml", ""),
    VIGIL_POLICY: file("policy.yaml", "rules: [{ name: admin, action: allow }]\n"),
    VIGIL_PORT: "0",
  });
  expect(code).toBe(2);
  expect(stderr).toContain('rules[0] "admin".action');
});
