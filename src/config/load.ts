/**
 * The only reader of process.env and of the config file. Produces a validated, resolved Config
 * or throws a ConfigError whose message names the offending field.
 */
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { configSchema, type FileConfig } from "./schema.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The resolved configuration: file + environment, with derived values filled in. */
export interface Config extends FileConfig {
  public_url: string;
  /** Origin of public_url, e.g. https://auth.example.com */
  publicOrigin: string;
  /** Secure cookies unless the portal is plain-HTTP localhost. */
  cookieSecure: boolean;
  rpId: string;
  /** Where the config came from, for the start-up log. */
  source: string;
  /** Client secret of each OIDC provider, by provider id (a secret: never log it). */
  oidcClientSecrets: Record<string, string>;
}

type Env = Record<string, string | undefined>;

/** Environment variables and the config field each one overrides. */
const ENV_OVERRIDES: Array<[string, (raw: Record<string, unknown>, value: string) => void]> = [
  ["VIGIL_PORT", (raw, v) => (raw.port = v)],
  ["REDIS_URL", (raw, v) => (raw.redis = { ...(raw.redis as object), url: v })],
  ["VIGIL_POLICY", (raw, v) => (raw.policy_path = v)],
  ["VIGIL_PUBLIC_URL", (raw, v) => (raw.public_url = v)],
  ["VIGIL_COOKIE_DOMAIN", (raw, v) => (raw.cookie = { ...(raw.cookie as object), domain: v })],
  ["VIGIL_RP_ID", (raw, v) => (raw.webauthn = { ...(raw.webauthn as object), rp_id: v })],
  [
    "VIGIL_TRUSTED_PROXIES",
    (raw, v) =>
      (raw.trusted_proxies = v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)),
  ],
  ["VIGIL_ADMIN_TOKEN", (raw, v) => (raw.admin = { ...(raw.admin as object), token: v })],
  ["VIGIL_LOG_LEVEL", (raw, v) => (raw.log = { ...(raw.log as object), level: v })],
];

function readFile(env: Env): { raw: Record<string, unknown>; source: string } {
  const explicit = env.VIGIL_CONFIG;
  const path = explicit ?? "./vigil.yaml";
  if (!existsSync(path)) {
    if (explicit) throw new ConfigError(`VIGIL_CONFIG: file not found: ${explicit}`);
    return { raw: {}, source: "built-in defaults" };
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return { raw: {}, source: path };
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`${path}: the top level must be a mapping`);
  }
  return { raw: parsed as Record<string, unknown>, source: path };
}

/** Each provider's client secret, from its environment variable or file; a missing one stops the start. */
function readClientSecrets(file: FileConfig, env: Env): Record<string, string> {
  const secrets: Record<string, string> = {};
  file.oidc.providers.forEach((provider, i) => {
    const field = `oidc.providers.${i}`;
    const issuer = new URL(provider.issuer);
    const loopback =
      ["localhost", "127.0.0.1", "[::1]"].includes(issuer.hostname) || issuer.hostname.endsWith(".localhost");
    if (issuer.protocol !== "https:" && !(issuer.protocol === "http:" && loopback)) {
      throw new ConfigError(
        `${field}.issuer: must be https:// (plain http only on localhost), got ${issuer.origin}`,
      );
    }
    let secret: string | undefined;
    if (provider.client_secret_env !== undefined) {
      secret = env[provider.client_secret_env];
      if (!secret) {
        throw new ConfigError(
          `${field}.client_secret_env: the environment variable ${provider.client_secret_env} is not set`,
        );
      }
    } else if (provider.client_secret_file !== undefined) {
      try {
        secret = readFileSync(provider.client_secret_file, "utf8").trim();
      } catch (error) {
        throw new ConfigError(
          `${field}.client_secret_file: cannot read it (${(error as NodeJS.ErrnoException).code})`,
        );
      }
      if (!secret) throw new ConfigError(`${field}.client_secret_file: the file is empty`);
    }
    secrets[provider.id] = secret ?? "";
  });
  return secrets;
}

/** Validates raw config (already merged with env) and derives the resolved values. */
export function resolveConfig(
  raw: Record<string, unknown>,
  source = "inline",
  env: Env = process.env,
): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
      return `  ${field}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration (${source}):\n${lines.join("\n")}`);
  }
  const file = result.data;
  const publicUrl = new URL(file.public_url ?? `http://localhost:${file.port || 8080}`);
  const isLocal = publicUrl.hostname === "localhost" || publicUrl.hostname.endsWith(".localhost");
  if (publicUrl.protocol !== "https:" && !isLocal) {
    throw new ConfigError(
      `public_url: must be https:// (plain http is allowed only for localhost), got ${publicUrl.origin}`,
    );
  }
  const rpId = file.webauthn.rp_id ?? publicUrl.hostname;
  if (publicUrl.hostname !== rpId && !publicUrl.hostname.endsWith(`.${rpId}`)) {
    throw new ConfigError(`webauthn.rp_id: "${rpId}" must be the portal host or a parent of it`);
  }
  const domain = file.cookie.domain?.replace(/^\./, "");
  if (domain && publicUrl.hostname !== domain && !publicUrl.hostname.endsWith(`.${domain}`)) {
    throw new ConfigError(`cookie.domain: "${domain}" must be the portal host or a parent of it`);
  }
  if (file.session.idle_timeout > file.session.absolute_timeout) {
    throw new ConfigError("session.idle_timeout: must not exceed session.absolute_timeout");
  }
  return {
    ...file,
    cookie: { ...file.cookie, domain },
    public_url: publicUrl.origin,
    publicOrigin: publicUrl.origin,
    cookieSecure: !(publicUrl.protocol === "http:" && isLocal),
    rpId,
    source,
    oidcClientSecrets: readClientSecrets(file, env),
  };
}

/** Reads VIGIL_CONFIG (or ./vigil.yaml) and applies environment overrides. */
export function loadConfig(env: Env = process.env): Config {
  const { raw, source } = readFile(env);
  for (const [name, apply] of ENV_OVERRIDES) {
    const value = env[name];
    if (value !== undefined && value !== "") apply(raw, value);
  }
  return resolveConfig(raw, source, env);
}
