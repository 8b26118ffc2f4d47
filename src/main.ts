/**
 * `bun src/main.ts`: reads the config and compiles the policy with `vigil check`'s own code, then
 * loads the rest (server.ts) and serves with that policy. An invalid config or policy stops the
 * start at once, before the composition (GeoIP's database among it) loads; the IP lists are loaded
 * once, by server.ts, before it touches Redis. Every refusal exits 2 with a message naming the
 * field or file.
 */
import { readConfiguredPolicy } from "./adapters/files/start-files.ts";
import { ConfigError, loadConfig } from "./config/load.ts";

try {
  const config = loadConfig();
  const policy = readConfiguredPolicy(config);
  const { start } = await import("./server.ts");
  await start(config, policy);
} catch (error) {
  if (error instanceof ConfigError || (error as Error).name === "PolicyError") {
    console.error(`vigil: ${(error as Error).message}`);
    process.exit(2);
  }
  throw error;
}
