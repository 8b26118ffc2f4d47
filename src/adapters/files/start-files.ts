/**
 * The files a start reads, checked with the code the running service loads them with: the policy
 * (compiled) and every risk IP list (read and parsed). `bun src/main.ts` runs this before it loads
 * the rest and `vigil check` runs it too, so what one refuses the other refuses.
 */
import type { Config } from "../../config/load.ts";
import type { Policy } from "../../policy/compile.ts";
import { IpListLoader } from "./ip-list-loader.ts";
import { readPolicyFile } from "./policy-source.ts";

/** The compiled policy; throws PolicyError or ConfigError naming the file that cannot be used. */
export function checkStartFiles(config: Config): Policy {
  const policy = readPolicyFile(config.policy_path, { defaultMaxAgeMs: config.stepup.default_max_age });
  new IpListLoader(config.risk.ip_lists, { watch: false }).close();
  return policy;
}
