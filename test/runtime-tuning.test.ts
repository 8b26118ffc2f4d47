/**
 * Vigil's runtime env (src/runtime-tuning.ts) must reach the runtime: each MIMALLOC_ setting is one
 * the running Bun's allocator knows and applies (a Bun upgrade that renamed an option would
 * otherwise drop it silently), and server.ts can tell when a process was started without it.
 */
import { expect, test } from "bun:test";
import { missingRuntimeEnv, RUNTIME_ENV } from "../src/runtime-tuning.ts";
import { spawnVigilProcess } from "./helpers/vigil-process.ts";

/** The allocator's option table as it prints it at start-up (MIMALLOC_VERBOSE=1): name → value. */
async function allocatorOptions(env: Record<string, string>): Promise<Map<string, string>> {
  const child = Bun.spawn([process.execPath, "-e", ""], {
    env: { ...process.env, ...env, MIMALLOC_VERBOSE: "1" },
    stdout: "ignore",
    stderr: "pipe",
  });
  const text = await new Response(child.stderr).text();
  await child.exited;
  return new Map([...text.matchAll(/^option '([a-z_]+)': (\S+)/gm)].map((m) => [m[1]!, m[2]!]));
}

const mimallocOption = (name: string) => name.replace(/^MIMALLOC_/, "").toLowerCase();

test("every MIMALLOC_ setting of the runtime env is an option this Bun's allocator applies", async () => {
  const settings = Object.entries(RUNTIME_ENV).filter(([name]) => name.startsWith("MIMALLOC_"));
  expect(settings.length).toBeGreaterThan(0);
  const untuned = await allocatorOptions({});
  const tuned = await allocatorOptions({ ...RUNTIME_ENV });
  for (const [name, value] of settings) {
    const option = mimallocOption(name);
    expect(untuned.has(option)).toBe(true);
    expect(tuned.get(option)).toBe(value);
    // Otherwise the setting changes nothing and is not worth shipping.
    expect(untuned.get(option)).not.toBe(value);
  }
});

test("missingRuntimeEnv names what a process was started without", () => {
  expect(missingRuntimeEnv({ ...RUNTIME_ENV })).toEqual([]);
  const names = Object.keys(RUNTIME_ENV);
  expect(missingRuntimeEnv({})).toEqual(names.map((name) => `${name}=${RUNTIME_ENV[name]}`));
  const [first] = names;
  expect(missingRuntimeEnv({ ...RUNTIME_ENV, [first!]: "1" })).toEqual([`${first}=${RUNTIME_ENV[first!]}`]);
});

test("a Vigil process started without the runtime env logs a warning naming it; with it, none", async () => {
  const warnings = async (env: Record<string, string>) => {
    const vigil = await spawnVigilProcess({ VIGIL_LOG_LEVEL: "info", ...env }, { readyPath: "/healthz" });
    try {
      const parsed = () =>
        vigil
          .logLines()
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line) as { msg?: string; missing?: string[] });
      // server.ts logs the warning before "vigil listening", on the same stream.
      for (let i = 0; i < 100 && !parsed().some((line) => line.msg === "vigil listening"); i++) {
        await Bun.sleep(20);
      }
      expect(parsed().some((line) => line.msg === "vigil listening")).toBe(true);
      return parsed().filter((line) => line.msg?.startsWith("started without Vigil's runtime tuning"));
    } finally {
      await vigil.stop();
    }
  };
  // The helper starts Vigil as `bun start` does; undo each setting to see the warning.
  const undone = Object.fromEntries(Object.keys(RUNTIME_ENV).map((name) => [name, "1"]));
  const [untuned, tuned] = await Promise.all([warnings(undone), warnings({})]);
  expect(untuned).toHaveLength(1);
  expect(untuned[0]!.missing).toEqual(missingRuntimeEnv(undone));
  expect(tuned).toEqual([]);
  // Two Vigil processes start from scratch: on a loaded machine that takes more than the default.
}, 30_000);
