import { existsSync } from "node:fs";
import { readPolicyFile } from "../../adapters/files/policy-source.ts";
import { discover } from "../../oidc/providers.ts";
import type { Policy } from "../../policy/compile.ts";
import { type Command, parseCommandArgs } from "../command.ts";
import { CliError } from "../context.ts";

/** Validates the configuration (file + environment) and the policy file with the start's own code. */
export const check: Command = {
  name: "check",
  summary:
    "validate the configuration and the policy file (exit 0 valid, 2 invalid); --probe-oidc also fetches each identity provider's discovery (exit 1 when one fails)",
  usage: "[--probe-oidc]",
  async run(args, ctx) {
    const { values } = parseCommandArgs(this, args, [], { "probe-oidc": { type: "boolean" } });
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
    for (const provider of config.oidc.providers) {
      // Secrets were read by ctx.config() (a missing one is a ConfigError); never printed.
      ctx.out(
        `oidc provider ${provider.id} ok (${provider.issuer}, callback ${config.publicOrigin}/oidc/${provider.id}/callback, provisioning ${provider.provisioning})`,
      );
      if (
        provider.provisioning === "jit" &&
        provider.allowed_domains.length === 0 &&
        provider.allowed_groups.length === 0
      ) {
        ctx.err(
          `note: oidc provider ${provider.id}: provisioning jit with no allowed_domains or allowed_groups admits anyone the IdP signs in`,
        );
      }
    }
    let probeFailed = false;
    if (values["probe-oidc"]) {
      for (const provider of config.oidc.providers) {
        try {
          const metadata = (
            await discover(provider, config.oidcClientSecrets[provider.id] ?? "")
          ).serverMetadata();
          const offers = [
            metadata.end_session_endpoint ? "end_session" : undefined,
            metadata.backchannel_logout_supported ? "backchannel_logout" : undefined,
            metadata.acr_values_supported?.length
              ? `acr_values ${metadata.acr_values_supported.join(" ")}`
              : undefined,
          ].filter(Boolean);
          ctx.out(
            `oidc provider ${provider.id} discovery ok (${offers.join(", ") || "no logout support announced"})`,
          );
          const missing = provider.stepup_acr_values.filter(
            (acr) => !(metadata.acr_values_supported ?? []).includes(acr),
          );
          if (missing.length > 0 && metadata.acr_values_supported !== undefined) {
            ctx.err(
              `note: oidc provider ${provider.id}: the IdP does not announce acr values ${missing.join(", ")}`,
            );
          }
        } catch (error) {
          probeFailed = true;
          ctx.err(`oidc provider ${provider.id}: discovery failed: ${(error as Error).message}`);
        }
      }
    }
    if (!config.redis.url)
      ctx.err("note: REDIS_URL is not set: the server would use its in-memory store (one replica)");
    if (!config.admin.token) ctx.err("note: VIGIL_ADMIN_TOKEN is not set: the admin API answers 404");
    return probeFailed ? 1 : 0;
  },
};
