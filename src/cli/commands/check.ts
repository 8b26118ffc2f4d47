import { existsSync } from "node:fs";
import { readPolicyFile } from "../../adapters/files/policy-source.ts";
import type { Policy } from "../../policy/compile.ts";
import { type Command, parseCommandArgs } from "../command.ts";
import { CliError } from "../context.ts";

/** Validates the configuration (file + environment) and the policy file with the start's own code. */
export const check: Command = {
  name: "check",
  summary: "validate the configuration and the policy file (exit 0 valid, 2 invalid)",
  usage: "",
  async run(args, ctx) {
    parseCommandArgs(this, args, [], {});
    const config = ctx.config(); // a ConfigError is reported by cli.ts with exit 2
    ctx.out(`config ok (${config.source})`);
    let policy: Policy;
    try {
      policy = readPolicyFile(config.policy_path, { defaultMaxAgeMs: config.stepup.default_max_age });
    } catch (error) {
      throw new CliError(2, (error as Error).message);
    }
    ctx.out(
      `policy ok (${config.policy_path ?? "built-in sample"}, version ${policy.version}, ${policy.rules.length} rules)`,
    );
    const missing = config.risk.ip_lists.filter((list) => !existsSync(list.path));
    if (missing.length > 0) {
      throw new CliError(
        2,
        `risk.ip_lists: file not found: ${missing.map((l) => `${l.name} (${l.path})`).join(", ")}`,
      );
    }
    if (!config.redis.url)
      ctx.err("note: REDIS_URL is not set: the server would use its in-memory store (one replica)");
    if (!config.admin.token) ctx.err("note: VIGIL_ADMIN_TOKEN is not set: the admin API answers 404");
    return 0;
  },
};
