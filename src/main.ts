/**
 * `bun src/main.ts`: reads the config and compiles the policy with `vigil check`'s own code, then
 * loads the rest (server.ts) and serves. An invalid config or policy stops the start at once, before
 * the composition (GeoIP's database among it) loads; the IP lists are loaded once, by server.ts,
 * before it touches Redis. Every refusal exits 2 with a message naming the field or file.
 */
import { readPolicyFile } from "./adapters/files/policy-source.ts";
import { ConfigError, loadConfig } from "./config/load.ts";

try {
  const config = loadConfig();
  readPolicyFile(config.policy_path, { defaultMaxAgeMs: config.stepup.default_max_age });
  const { start } = await import("./server.ts");
  await start(config);
} catch (error) {
  if (error instanceof ConfigError || (error as Error).name === "PolicyError") {
    console.error(`vigil: ${(error as Error).message}`);
    process.exit(2);
  }
  throw error;
}
