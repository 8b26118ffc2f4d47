/**
 * `vigil check` and the start validate with the same code: what one refuses the other refuses,
 * with exit 2 and a message naming the field or file, never a stack trace. Each start is a real
 * `bun src/main.ts` process; `vigil check` runs src/cli.ts's own runCli. No Redis needed: every
 * case stops before it.
 */
import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBun, runCli, spawnVigilProcess } from "../helpers/vigil-process.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-start-"));
const file = (name: string, text: string) => {
  const path = join(dir, `${crypto.randomUUID()}-${name}`);
  writeFileSync(path, text);
  return path;
};

/** The settings of a newcomer's shell: an empty config file, no runner's Vigil or Redis variables. */
const newcomerEnv = (env: Record<string, string>) => ({
  VIGIL_CONFIG: file("empty.yaml", ""),
  VIGIL_PORT: "0",
  ...env,
});

/** `bun src/main.ts` in a newcomer's shell; a start that does not stop is killed. */
const start = (env: Record<string, string>) =>
  runBun(["src/main.ts"], newcomerEnv(env), { inheritVigilEnv: false });

/** `vigil check` (src/cli.ts's runCli, in this process) in a newcomer's shell. */
const check = (env: Record<string, string>) =>
  runCli(["check"], newcomerEnv(env), { inheritVigilEnv: false });

const STACK_FRAME = /^\s+at\s/m;

/** A config whose one bearer issuer has these static keys. */
const issuerWithKeys = (keys: unknown[]) =>
  file(
    "issuer.yaml",
    `jwt:\n  issuers:\n    - { id: corp, issuer: "https://idp.example", audience: vigil, keys: { keys: ${JSON.stringify(keys)} } }\n`,
  );

const signingKey = generateKeyPairSync("ec", { namedCurve: "P-256" });
const publicJwk = signingKey.publicKey.export({ format: "jwk" });
const privateJwk = signingKey.privateKey.export({ format: "jwk" });

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
  [
    "a REDIS_URL without a scheme",
    () => ({ REDIS_URL: "localhost:6379" }),
    /redis\.url: .*redis:\/\/, rediss:\/\/, redis\+sentinel:\/\/ or redis\+cluster:\/\//,
  ],
  [
    "a Cluster REDIS_URL with a seed that is not host:port",
    () => ({ REDIS_URL: "redis+cluster://127.0.0.1:7000,:" }),
    /redis\.url: a Cluster URL must look like redis\+cluster:\/\//,
  ],
  [
    "a REDIS_URL with a password but no scheme: refused without echoing the password",
    () => ({ REDIS_URL: "default:hunter2-secret@localhost:6379" }),
    /redis\.url: (?!.*hunter2)/,
  ],
  [
    "a Sentinel REDIS_URL without a master name",
    () => ({ REDIS_URL: "redis+sentinel://127.0.0.1:26379" }),
    /redis\.url: .*master/,
  ],
  [
    "a static issuer JWK that is not a key (truncated RSA modulus)",
    () => ({ VIGIL_CONFIG: issuerWithKeys([{ kty: "RSA", n: "abc", e: "AQAB" }]) }),
    /jwt\.issuers\.0\.keys\.keys\.0: .*RSA/,
  ],
  [
    "a static issuer PEM that does not decode",
    () => ({
      VIGIL_CONFIG: issuerWithKeys(["-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"]),
    }),
    /jwt\.issuers\.0\.keys\.keys\.0: not a public key/,
  ],
  [
    "a static issuer JWK of a symmetric kind",
    () => ({ VIGIL_CONFIG: issuerWithKeys([{ kty: "oct", k: "c2VjcmV0" }]) }),
    /jwt\.issuers\.0\.keys\.keys\.0: holds a symmetric key/,
  ],
  [
    "a static issuer JWK holding the private key (a secret in the config), after a good one",
    () => ({ VIGIL_CONFIG: issuerWithKeys([publicJwk, privateJwk]) }),
    /jwt\.issuers\.0\.keys\.keys\.1: .*private/,
  ],
  [
    "a symmetric algorithm for an issuer (its key would be a secret anyone can read in a JWKS)",
    () => ({
      VIGIL_CONFIG: file(
        "hs256.yaml",
        'jwt:\n  issuers:\n    - { id: corp, issuer: "https://idp.example", audience: vigil, algorithms: [RS256, HS256], keys: { jwks_url: "https://idp.example/jwks" } }\n',
      ),
    }),
    /jwt\.issuers\.0\.algorithms\.1: .*HS256/,
  ],
  [
    "an unsigned-token algorithm for a transmitter",
    () => ({
      VIGIL_CONFIG: file(
        "none.yaml",
        'events:\n  transmitters:\n    - { issuer: "https://tx.example", audience: vigil, algorithms: [none], keys: { jwks_url: "https://tx.example/jwks" } }\n',
      ),
    }),
    /events\.transmitters\.0\.algorithms\.0: .*none/,
  ],
  [
    "a Shared Signals transmitter key that is not a key",
    () => ({
      VIGIL_CONFIG: file(
        "transmitter.yaml",
        'events:\n  transmitters:\n    - { issuer: "https://tx.example", audience: vigil, keys: { keys: [{ kty: EC, crv: P-256, x: a, y: b }] } }\n',
      ),
    }),
    /events\.transmitters\.0\.keys\.keys\.0: .*EC/,
  ],
  [
    "two risk IP list files that do not exist: both named at once",
    () => ({
      VIGIL_CONFIG: file(
        "lists.yaml",
        `risk:\n  ip_lists:\n    - { name: tor, path: ${join(dir, "no-such-list.txt")} }\n    - { name: drop, path: ${join(dir, "no-drop.txt")} }\n`,
      ),
    }),
    /risk\.ip_lists\[0\] "tor" \(.*no-such-list\.txt\): cannot read the list.*; risk\.ip_lists\[1\] "drop" \(.*no-drop\.txt\)/,
  ],
  [
    "a risk IP list without one valid entry",
    () => ({
      VIGIL_CONFIG: file(
        "lists.yaml",
        `risk:\n  ip_lists: [{ name: tor, path: ${file("tor.txt", "not-an-address\n10.0.0.0/99\n")} }]\n`,
      ),
    }),
    /risk\.ip_lists\[0\] "tor" .*: no valid entry; 2 bad lines, first at line 1/,
  ],
];

describe("the start and `vigil check` refuse the same inputs, naming them, without a stack trace", () => {
  test.each(cases)(
    "%s",
    async (_name, envOf, message) => {
      const env = envOf();
      const [started, checked] = await Promise.all([start(env), check(env)]);
      expect(started.code).toBe(2);
      expect(started.stderr).toMatch(message);
      expect(started.stderr).not.toMatch(STACK_FRAME);
      expect(started.stdout).not.toContain("vigil listening");
      expect(checked.code).toBe(2);
      expect(checked.stderr).toMatch(message);
      expect(checked.stderr).not.toMatch(STACK_FRAME);
    },
    30_000,
  );

  test("a redis+cluster:// URL with its seed nodes passes `vigil check`", async () => {
    const checked = await check({ REDIS_URL: "redis+cluster://127.0.0.1:1,127.0.0.1:2" });
    expect(checked.stderr).toBe("note: VIGIL_ADMIN_TOKEN is not set: the admin API answers 404\n");
    expect(checked.code).toBe(0);
  }, 30_000);

  test("a valid static public key (JWK, and the same key as PEM) and a redis:// URL pass `vigil check`", async () => {
    const pem = signingKey.publicKey.export({ format: "pem", type: "spki" }).toString();
    const checked = await check({
      VIGIL_CONFIG: issuerWithKeys([publicJwk, pem]),
      REDIS_URL: "redis://127.0.0.1:1",
    });
    expect(checked.stderr).toBe("note: VIGIL_ADMIN_TOKEN is not set: the admin API answers 404\n");
    expect(checked.code).toBe(0);
  }, 30_000);

  test("an intentionally empty policy (`rules: []`) passes both: the start listens", async () => {
    const env = { VIGIL_POLICY: file("no-rules.yaml", "rules: []\n"), VIGIL_LOG_LEVEL: "info" };
    const checked = await check(env);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain("0 rules");

    const vigil = await spawnVigilProcess(newcomerEnv(env), {
      readyPath: "/healthz",
      inheritVigilEnv: false,
    });
    try {
      await vigil.waitForOutput("vigil listening");
      expect(vigil.output()).toContain("vigil listening");
    } finally {
      await vigil.stop();
    }
  }, 30_000);
});

describe("the start", () => {
  test("started from another directory (`bun /path/to/src/main.ts`), Vigil serves its pages", async () => {
    const vigil = await spawnVigilProcess(newcomerEnv({}), {
      readyPath: "/healthz",
      inheritVigilEnv: false,
      cwd: dir,
    });
    try {
      const login = await fetch(`${vigil.url}/login`);
      expect(login.status).toBe(200);
      expect(await login.text()).toContain("<title>Sign in");
    } finally {
      await vigil.stop();
    }
  }, 30_000);
});
