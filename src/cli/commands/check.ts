import { existsSync, readFileSync } from "node:fs";
import { compilePolicyText } from "../../policy/compile.ts";
import { SAMPLE_POLICY } from "../../policy/sample-policy.ts";
import { type Command, parseCommandArgs } from "../command.ts";
import { CliError } from "../context.ts";

/** Validates the configuration (file + environment) and the policy file, as a start would. */
export const check: Command = {
  name: "check",
  summary: "validate the configuration and the policy file (exit 0 valid, 2 invalid)",
  usage: "",
  async run(args, ctx) {
    parseCommandArgs(this, args, [], {});
    const config = ctx.config(); // a ConfigError is reported by cli.ts with exit 2
    ctx.out(`config ok (${config.source})`);
    let text = SAMPLE_POLICY;
    if (config.policy_path) {
      if (!existsSync(config.policy_path))
        throw new CliError(2, `policy: file not found: ${config.policy_path}`);
      text = readFileSync(config.policy_path, "utf8");
    }
    let policy: ReturnType<typeof compilePolicyText>;
    try {
      policy = compilePolicyText(text, { defaultMaxAgeMs: config.stepup.default_max_age });
    } catch (error) {
      throw new CliError(
        2,
        `policy ${config.policy_path ?? "(built-in sample)"}: ${(error as Error).message}`,
      );
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
