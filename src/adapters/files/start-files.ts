/**
 * The files a start reads, checked by `vigil check` with the code the start loads them with: the
 * policy (compiled, as main.ts does first) and every risk IP list (as server.ts's IpListLoader
 * does), so what one refuses the other refuses.
 */
import type { Config } from "../../config/load.ts";
import type { Policy } from "../../policy/compile.ts";
import { IpListLoader } from "./ip-list-loader.ts";
import { readPolicyFile } from "./policy-source.ts";

/** The configured policy file (or the built-in sample) compiled; throws PolicyError naming the file. */
export function readConfiguredPolicy(config: Config): Policy {
  return readPolicyFile(config.policy_path, { defaultMaxAgeMs: config.stepup.default_max_age });
}

/** The compiled policy; throws PolicyError or ConfigError naming the file that cannot be used. */
export function checkStartFiles(config: Config): Policy {
  const policy = readConfiguredPolicy(config);
  new IpListLoader(config.risk.ip_lists, { watch: false }).close();
  return policy;
}
