/**
 * The configured OIDC providers and their discovery documents (openid-client v6). Discovery runs
 * at start and every `oidc.discovery_refresh`; an IdP that does not answer is a warning, never a
 * crash: its provider is unavailable (sign-in through it answers 503) and retried with back-off.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import * as client from "openid-client";
import type { Config } from "../config/load.ts";
import type { Logger } from "../observe/logger.ts";
import type { ProviderSettings } from "./claims.ts";

export interface OidcProvider {
  settings: ProviderSettings;
  /** The openid-client configuration; undefined while discovery has not succeeded. */
  configuration(): client.Configuration | undefined;
  /** The provider's signing keys (JWKS from discovery), for logout tokens; undefined while unknown. */
  keys(): JWTVerifyGetKey | undefined;
  /** ID-token signing algorithms the IdP announces (never "none", never HMAC). */
  algorithms(): string[];
}

export interface OidcProviders {
  get(id: string): OidcProvider | undefined;
  /** id and button text of every provider, in configuration order. */
  list(): Array<{ id: string; name: string }>;
  /** Resolves when every provider's first discovery attempt has ended (it never rejects). */
  ready: Promise<void>;
  close(): void;
}

const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 5 * 60_000;
const DISCOVERY_TIMEOUT_SEC = 10;

/** Plain-HTTP issuers are allowed only on this machine (development, tests). */
export function isLoopbackIssuer(issuer: string): boolean {
  const host = new URL(issuer).hostname;
  return host === "localhost" || host.endsWith(".localhost") || host === "127.0.0.1" || host === "[::1]";
}

/** Fetches one provider's discovery document and builds its openid-client configuration. */
export async function discover(settings: ProviderSettings, secret: string): Promise<client.Configuration> {
  const insecure = new URL(settings.issuer).protocol === "http:" && isLoopbackIssuer(settings.issuer);
  return client.discovery(
    new URL(settings.issuer),
    settings.client_id,
    { client_secret: secret },
    client.ClientSecretBasic(secret),
    {
      // ID tokens are verified against the IdP's JWKS even though they come straight from its
      // token endpoint (OIDC Core lets TLS stand in for the signature; Vigil does not rely on that).
      execute: [client.enableNonRepudiationChecks, ...(insecure ? [client.allowInsecureRequests] : [])],
      timeout: DISCOVERY_TIMEOUT_SEC,
    },
  );
}

const SAFE_ALGORITHMS = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);

export function createOidcProviders(config: Config, logger: Logger): OidcProviders {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let closed = false;
  const entries = new Map<string, OidcProvider>();
  const firstAttempts: Promise<void>[] = [];

  for (const settings of config.oidc.providers) {
    const secret = config.oidcClientSecrets[settings.id] ?? "";
    let configuration: client.Configuration | undefined;
    let keys: JWTVerifyGetKey | undefined;
    let jwksUri: string | undefined;
    let algorithms: string[] = ["RS256"];
    let retryMs = RETRY_FIRST_MS;

    const schedule = (ms: number) => {
      if (closed) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        void attempt();
      }, ms);
      timer.unref?.();
      timers.add(timer);
    };

    const attempt = async (): Promise<void> => {
      try {
        const discovered = await discover(settings, secret);
        const metadata = discovered.serverMetadata();
        if (metadata.jwks_uri !== jwksUri) {
          jwksUri = metadata.jwks_uri;
          keys = jwksUri ? createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5_000 }) : undefined;
        }
        const announced = (metadata.id_token_signing_alg_values_supported ?? ["RS256"]).filter((alg) =>
          SAFE_ALGORITHMS.has(alg),
        );
        algorithms = announced.length > 0 ? announced : ["RS256"];
        if (configuration === undefined) logger.info({ provider: settings.id }, "oidc provider discovered");
        configuration = discovered;
        retryMs = RETRY_FIRST_MS;
        schedule(config.oidc.discovery_refresh);
      } catch (error) {
        // A stale but once-valid configuration keeps serving; a never-discovered one stays unavailable.
        logger.warn(
          {
            provider: settings.id,
            issuer: settings.issuer,
            err: (error as Error).message,
            retryInMs: retryMs,
          },
          configuration === undefined
            ? "oidc provider unreachable: sign-in through it answers 503 until discovery succeeds"
            : "oidc discovery refresh failed; keeping the previous configuration",
        );
        schedule(retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      }
    };
    firstAttempts.push(attempt());
    entries.set(settings.id, {
      settings,
      configuration: () => configuration,
      keys: () => keys,
      algorithms: () => algorithms,
    });
  }

  return {
    get: (id) => entries.get(id),
    list: () => config.oidc.providers.map((p) => ({ id: p.id, name: p.name })),
    ready: Promise.all(firstAttempts).then(() => undefined),
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
