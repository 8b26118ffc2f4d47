/**
 * `bun src/main.ts`: reads the config and checks the policy and IP list files with `vigil check`'s
 * own code, then loads the rest (server.ts) and serves. Invalid inputs stop the start at once with
 * exit 2 and a message naming the field or file, before the composition (GeoIP's database among
 * it) loads.
 */
import { checkStartFiles } from "./adapters/files/start-files.ts";
import { ConfigError, loadConfig } from "./config/load.ts";

try {
  const config = loadConfig();
  checkStartFiles(config);
  const { start } = await import("./server.ts");
  await start(config);
} catch (error) {
  if (error instanceof ConfigError || (error as Error).name === "PolicyError") {
    console.error(`vigil: ${(error as Error).message}`);
    process.exit(2);
  }
  throw error;
}
