import { checkStartFiles } from "../../adapters/files/start-files.ts";
import { discover } from "../../oidc/providers.ts";
import { type Command, parseCommandArgs } from "../command.ts";

/** Validates the configuration (file + environment), the policy file and the IP lists with the start's own code. */
export const check: Command = {
  name: "check",
  summary:
    "validate the configuration, the policy file and the IP lists (exit 0 valid, 2 invalid); --probe-oidc also fetches each identity provider's discovery (exit 1 when one fails)",
  usage: "[--probe-oidc]",
  async run(args, ctx) {
    const { values } = parseCommandArgs(this, args, [], { "probe-oidc": { type: "boolean" } });
    const config = ctx.config(); // a ConfigError is reported by cli.ts with exit 2
    ctx.out(`config ok (${config.source})`);
    // A PolicyError or ConfigError naming the file is reported by cli.ts with exit 2.
    const policy = checkStartFiles(config);
    ctx.out(
      `policy ok (${config.policy_path ?? "built-in sample"}, version ${policy.version}, ${policy.rules.length} rules)`,
    );
    if (config.risk.ip_lists.length > 0)
      ctx.out(`ip lists ok (${config.risk.ip_lists.map((l) => l.name).join(", ")})`);
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
