/**
 * A real Traefik for tests and the benchmark: the binary tools/build.sh builds from Traefik's Go
 * module at the version pinned in tools/traefik/go.mod, started on loopback ports with the
 * repository's own traefik/traefik.yml and traefik/dynamic/ where only addresses, ports and the
 * provider directory are substituted.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { freeLoopbackPort } from "./free-port.ts";

const ROOT = resolve(import.meta.dir, "../..");
const TOOLS = join(ROOT, "tools");
export const SHIPPED_STATIC = join(ROOT, "traefik/traefik.yml");
export const SHIPPED_DYNAMIC_DIR = join(ROOT, "traefik/dynamic");

/** The Traefik version the wrapper module pins (tools/traefik/go.mod). */
export function pinnedTraefikVersion(): string {
  const goMod = readFileSync(join(TOOLS, "traefik/go.mod"), "utf8");
  const version = /^require github\.com\/traefik\/traefik\/v3 (v\S+)$/m.exec(goMod)?.[1];
  if (version === undefined)
    throw new Error("tools/traefik/go.mod does not require github.com/traefik/traefik/v3");
  return version;
}

/** Where tools/build.sh puts its binaries (same rule as the script). */
export function toolsCacheDir(): string {
  return (
    process.env.VIGIL_TOOLS_CACHE ??
    join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "vigil-tools")
  );
}

/**
 * The pinned Traefik binary (TRAEFIK_PATH overrides). Throws with the command that builds it:
 * a missing proxy is a setup error to fix, never a reason to skip the tests quietly.
 */
export function traefikBinary(): string {
  const path =
    process.env.TRAEFIK_PATH ?? join(toolsCacheDir(), `traefik-${pinnedTraefikVersion()}`, "traefik");
  if (!existsSync(path)) {
    throw new Error(
      `Traefik ${pinnedTraefikVersion()} is not built (looked for ${path}). ` +
        "Run tools/build.sh traefik (needs Go >= 1.26 and the Go module proxy; .ci/run does it).",
    );
  }
  return path;
}

/** Replaces `from` in `text`, insisting that it is there: a shipped file that drifted must fail loudly. */
export function substitute(text: string, from: string, to: string, file: string): string {
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}`);
  return text.replaceAll(from, to);
}

export interface ShippedAddresses {
  /** host:port for the web (plain HTTP, redirect-only) and websecure (TLS) entry points. */
  web: string;
  websecure: string;
  /** Base URLs replacing http://vigil:8080 and http://whoami:80 in traefik/dynamic/. */
  vigil: string;
  whoami: string;
}

export interface TraefikFiles {
  /** traefik.yml text. */
  staticConfig: string;
  /** file name → text, written into the file provider's directory. */
  dynamic: Record<string, string>;
}

/**
 * traefik/traefik.yml and every file of traefik/dynamic/ with addresses and ports substituted and
 * nothing else; `{{DYNAMIC_DIR}}` stands for the provider directory until startTraefik knows it.
 */
export function shippedTraefikFiles(addresses: ShippedAddresses): TraefikFiles {
  let staticConfig = readFileSync(SHIPPED_STATIC, "utf8");
  staticConfig = substitute(staticConfig, 'address: ":80"', `address: "${addresses.web}"`, "traefik.yml");
  staticConfig = substitute(
    staticConfig,
    'address: ":443"',
    `address: "${addresses.websecure}"`,
    "traefik.yml",
  );
  staticConfig = substitute(
    staticConfig,
    "directory: /etc/traefik/dynamic",
    "directory: {{DYNAMIC_DIR}}",
    "traefik.yml",
  );
  const dynamic: Record<string, string> = {};
  for (const name of readdirSync(SHIPPED_DYNAMIC_DIR).filter((file) => /\.ya?ml$/.test(file))) {
    let text = readFileSync(join(SHIPPED_DYNAMIC_DIR, name), "utf8");
    text = substitute(text, "http://vigil:8080", addresses.vigil, name);
    text = substitute(text, "http://whoami:80", addresses.whoami, name);
    dynamic[name] = text;
  }
  return { staticConfig, dynamic };
}

export interface TestTraefik {
  process: Subprocess;
  /** Everything Traefik wrote (its log and the access log). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Traefik with the given files in a temp directory and waits until `ready()` is true
 * (Traefik answers 404 until the file provider's routers are loaded).
 */
export async function startTraefik(
  files: TraefikFiles,
  ready: () => Promise<boolean>,
  { timeoutMs = 20_000, cpu }: { timeoutMs?: number; cpu?: number } = {},
): Promise<TestTraefik> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-traefik-"));
  const dynamicDir = join(dir, "dynamic");
  mkdirSync(dynamicDir);
  for (const [name, text] of Object.entries(files.dynamic)) writeFileSync(join(dynamicDir, name), text);
  const configFile = join(dir, "traefik.yml");
  writeFileSync(configFile, files.staticConfig.replaceAll("{{DYNAMIC_DIR}}", dynamicDir));

  const command = [traefikBinary(), `--configFile=${configFile}`];
  const child = Bun.spawn(cpu === undefined ? command : ["taskset", "-c", String(cpu), ...command], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const chunks: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        chunks.push(decoder.decode(chunk, { stream: true }));
        if (chunks.length > 20_000) chunks.splice(0, 10_000); // long benchmarks: keep the tail
      }
    })();
  }
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await child.exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`traefik exited with ${child.exitCode}:\n${chunks.join("")}`);
    }
    if (await ready().catch(() => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`traefik was not ready within ${timeoutMs} ms:\n${chunks.join("")}`);
    }
    await Bun.sleep(100);
  }
  return { process: child, output: () => chunks.join(""), stop };
}

/** Free loopback host:port pairs for the two entry points. */
export async function loopbackEntryPoints(): Promise<{ web: string; websecure: string }> {
  return { web: `127.0.0.1:${await freeLoopbackPort()}`, websecure: `127.0.0.1:${await freeLoopbackPort()}` };
}
