/**
 * The configuration file's schema (YAML, snake_case like the policy file). Every field has a
 * secure default, so an empty file (or none) is a valid single-replica setup on localhost.
 */
import { z } from "zod";
import { HEADER_LIST_ITEM, ISSUER_ID, isLocalUserId, LOCAL_USER_ID_RULE } from "../core/names.ts";
import { parseCidr } from "../net/ip.ts";
import { parseDuration } from "./duration.ts";
import { redisUrlProblem } from "./redis-url.ts";
import { staticKeyProblem } from "./static-key.ts";

/** A duration field: "30s", "5m", "12h" or seconds; parsed to milliseconds. */
const duration = (fallback: string) =>
  z
    .union([z.string(), z.number()])
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return parseDuration(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    });

/**
 * A window, ban or lifetime that a limit counts within: zero (or next to it) would expire every
 * count as it is made and turn the limit off unnoticed, so anything under a second is refused.
 */
const limitWindow = (fallback: string) =>
  duration(fallback).refine((ms) => ms >= 1000, "must be at least 1s");

/** Checked with the parser the server uses (src/net), so `vigil check` and the start agree. */
const cidr = z.string().superRefine((text, ctx) => {
  if (parseCidr(text.trim()) === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `${JSON.stringify(text)} is not an IP address or CIDR (prefix at most /32 for IPv4, /128 for IPv6), e.g. 10.0.0.0/8 or fd00::/8`,
    });
  }
});

const ipListSchema = z.object({
  name: z.string().min(1),
  path: z.string().min(1),
  /** Risk points added when the client IP is on the list (ignored when action is deny). */
  weight: z.number().int().min(0).max(100).default(50),
  action: z.enum(["score", "deny"]).default("score"),
});

/** Requests per window, per session, per user and per client IP. */
const rateLimits = (session: number, user: number, ip: number) =>
  z
    .object({
      session: z.number().int().positive().default(session),
      user: z.number().int().positive().default(user),
      ip: z.number().int().positive().default(ip),
    })
    .prefault({});

/** A JWK or SPKI PEM, checked with the conversion the verifier uses: a bad key stops the start. */
const staticKey = z.union([z.record(z.string(), z.unknown()), z.string()]).superRefine((key, ctx) => {
  const problem = staticKeyProblem(key);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

const keySourceSchema = z
  .object({
    jwks_url: z.url().optional(),
    /** Static public keys: JWKs (objects) or PEM strings (SPKI). */
    keys: z.array(staticKey).optional(),
  })
  .refine((v) => v.jwks_url !== undefined || (v.keys !== undefined && v.keys.length > 0), {
    message: "needs jwks_url or keys",
  });

/**
 * A JWS algorithm for a party's tokens: public-key ones only. Their keys come from a JWKS anyone
 * can read or from static public keys, so a symmetric one (HS*) would verify with a published
 * secret, and "none" verifies nothing.
 */
const signingAlgorithm = z.string().refine((alg) => !/^(none|HS\d+)$/i.test(alg), {
  error: (issue) =>
    `${JSON.stringify(issue.input)} is not a public-key algorithm (e.g. RS256, PS256, ES256, EdDSA)`,
});
const algorithms = z.array(signingAlgorithm).min(1).default(["RS256", "ES256", "EdDSA"]);

/** A group, acr or amr value an issuer is trusted to assert; it must survive a comma-joined header. */
const headerListItem = z
  .string()
  .regex(HEADER_LIST_ITEM, "must be 1-128 printable ASCII characters without spaces or commas");

/** A bearer-token issuer and how far its tokens are believed (src/core/token-trust.ts). */
const jwtIssuerSchema = z
  .object({
    /** Namespace of the issuer's subjects: a token's user is `<id>:<sub>` unless subjects is local. */
    id: z
      .string({ error: "required: a short name (e.g. corp, partner) that namespaces the issuer's users" })
      .regex(ISSUER_ID, "must be 1-64 of a-z, 0-9, '.', '_', '-' (starting with a letter or digit)"),
    issuer: z.string().min(1),
    audience: z.union([z.string(), z.array(z.string())]),
    keys: keySourceSchema,
    algorithms,
    groups_claim: z.string().default("groups"),
    /** "local": `sub` names a local user, whose live status and groups apply. */
    subjects: z.enum(["namespaced", "local"]).default("namespaced"),
    /** Token groups believed for namespaced subjects; any other group in the token is dropped. */
    allowed_groups: z.array(headerListItem).default([]),
    /** acr values believed; any other acr counts as none (it never satisfies a step-up). */
    acr_values: z.array(headerListItem).default([]),
    /** amr values believed; the others are dropped. */
    amr_values: z.array(headerListItem).default([]),
  })
  .refine((issuer) => issuer.subjects !== "local" || issuer.allowed_groups.length === 0, {
    message: "allowed_groups has no effect with subjects: local (the user store's groups apply)",
    path: ["allowed_groups"],
  });

/** One OpenID Connect identity provider users can sign in (and step up) with. */
export const oidcProviderSchema = z
  .object({
    /** Used in URLs: /oidc/<id>/login, /oidc/<id>/callback, /oidc/<id>/backchannel-logout. */
    id: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{0,31}$/,
        "must be 1-32 of a-z, 0-9, _ and -, starting with a letter or digit",
      ),
    /** Button text on the sign-in page. */
    name: z.string().min(1).max(64),
    /** Issuer URL; its /.well-known/openid-configuration is fetched at start and refreshed. */
    issuer: z.url(),
    client_id: z.string().min(1),
    /** The client secret comes from an environment variable or a file, never inline. */
    client_secret_env: z.string().min(1).optional(),
    client_secret_file: z.string().min(1).optional(),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "must be a scope token"))
      .default(["openid", "profile", "email"])
      .refine((scopes) => scopes.includes("openid"), { message: "must include openid" }),
    /** ID-token claim that names the Vigil user; unset = preferred_username, then email, then sub. */
    user_claim: z.string().min(1).optional(),
    groups_claim: z.string().min(1).default("groups"),
    /** Keep only IdP groups starting with this prefix (the prefix is kept). */
    groups_prefix: z.string().min(1).optional(),
    /** Email domains admitted (the email claim must be verified); empty = any. */
    allowed_domains: z.array(z.string().min(1)).default([]),
    /** IdP groups admitted (any of); empty = any. */
    allowed_groups: z.array(z.string().min(1)).default([]),
    /** jit: create the Vigil user on first sign-in; existing: only users Vigil already knows. */
    provisioning: z.enum(["jit", "existing"]).default("existing"),
    /** acr values asked for when a step-up goes through this IdP; empty = no step-up through it. */
    stepup_acr_values: z.array(z.string().min(1)).default([]),
    /** POST /logout also sends the browser to the IdP's end_session_endpoint, when it has one. */
    end_session: z.boolean().default(true),
  })
  .strict()
  .refine((p) => (p.client_secret_env === undefined) !== (p.client_secret_file === undefined), {
    message: "needs exactly one of client_secret_env or client_secret_file",
  });

export const configSchema = z
  .object({
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    /** Where the portal (login, step-up, enrollment) is reached by browsers. */
    public_url: z.url().optional(),
    /** Policy file path; unset = the built-in sample policy. */
    policy_path: z.string().optional(),
    /** CIDRs of the proxies whose X-Forwarded-For is believed. Empty = only the peer address counts. */
    trusted_proxies: z.array(cidr).default([]),
    /**
     * Per-client controls (ceremony start limits, failure bans, /auth rate limits, dynamic IP
     * reputation) count per network of this size: an IPv6 client can rotate inside its /64.
     */
    client_prefix: z
      .object({
        ipv4: z
          .number()
          .int()
          .min(16, "shorter than /16 would put whole providers in one bucket")
          .max(32)
          .default(32),
        ipv6: z
          .number()
          .int()
          .min(32, "shorter than /32 would put whole providers in one bucket")
          .max(128)
          .default(64),
      })
      .strict()
      .prefault({}),
    /** Hosts (exact or *.suffix) that `rd` may point at, besides the cookie domain and policy hosts. */
    protected_hosts: z.array(z.string()).default([]),
    cookie: z
      .object({
        /** Domain attribute, e.g. example.com so app hosts share the session; unset = host-only. */
        domain: z.string().optional(),
        same_site: z.enum(["Lax", "Strict"]).default("Lax"),
      })
      .prefault({}),
    session: z
      .object({
        idle_timeout: duration("1h"),
        absolute_timeout: duration("12h"),
        /** acr of a session created by a passkey sign-in (a step-up raises it to stepup.acr). */
        signin_acr: z.string().min(1).default("passkey"),
        /** Live sessions per user; a new sign-in beyond it revokes the user's oldest session. */
        max_per_user: z.number().int().min(1).max(1000).default(50),
      })
      .prefault({}),
    stepup: z
      .object({
        /** acr asked for and granted by a passkey step-up (OpenID EAP: phishing-resistant). */
        acr: z.string().default("phr"),
        /** max_age for stepup rules that name none. */
        default_max_age: duration("5m"),
        /** max_age 0 ("every time") still lets the redirect back through: a step-up this recent counts. */
        immediate_grace: duration("30s"),
      })
      .prefault({}),
    redis: z
      .object({
        /** REDIS_URL; checked here so a URL the client cannot use stops `vigil check` too. */
        url: z
          .string()
          .superRefine((url, ctx) => {
            const problem = redisUrlProblem(url);
            if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
          })
          .optional(),
        /** Braces would become part of the Redis Cluster hash tag of every key. */
        prefix: z
          .string()
          .regex(/^[^{}]*$/, "must not contain { or }")
          .default("vigil:"),
        // 0 would mean no time-out: a stalled Redis would hold every decision instead of failing it.
        command_timeout: duration("500ms").refine((ms) => ms >= 1, "must be more than 0"),
        /** Security writes wait for this many replicas (WAIT), or answer 503 "not confirmed, retry". */
        write_confirmation: z
          .object({
            /** auto = the replicas the primary reports connected (at least 1 under Sentinel). */
            replicas: z.union([z.literal("auto"), z.number().int().min(0).max(16)]).default("auto"),
            // WAIT 0 would block forever.
            timeout: duration("1s").refine((ms) => ms >= 1, "must be more than 0"),
          })
          .strict()
          .prefault({}),
        /**
         * Decision calls leave in reply-clocked batches (one socket write per batch); false sends
         * each as a plain EVALSHA on the auto-pipelined client (ioredis's public API only).
         */
        batching: z.boolean().default(true),
      })
      .prefault({}),
    admin: z
      .object({
        /** Bearer token for /admin/*; unset = the admin API answers 404. */
        token: z.string().min(24, "must be at least 24 characters").optional(),
      })
      .prefault({}),
    webauthn: z
      .object({
        rp_id: z.string().optional(),
        rp_name: z.string().default("Vigil"),
        /** Extra expected origins besides public_url's. */
        origins: z.array(z.url()).default([]),
        challenge_ttl: duration("2m"),
        enrollment_ttl: duration("24h"),
        /** Lifetime of an admin's recovery link (single use; it revokes the user's earlier links). */
        recovery_ttl: duration("1h"),
      })
      .prefault({}),
    bootstrap: z
      .object({
        /** With an empty user store, `bun start` prints a one-time enrollment link for this user. */
        admin_user: z.string().default("admin").refine(isLocalUserId, `must be ${LOCAL_USER_ID_RULE}`),
        admin_groups: z.array(z.string()).default(["admins"]),
      })
      .prefault({}),
    regulation: z
      .object({
        max_retries: z.number().int().min(1).default(5),
        find_time: limitWindow("10m"),
        ban_time: limitWindow("15m"),
        /** Ceremony starts (each stores a challenge) per client IP per start_window; past it, 429. */
        max_starts: z.number().int().min(1).default(30),
        start_window: limitWindow("1m"),
        /**
         * Challenges stored at once across all clients (bounds Redis whatever the number of
         * client networks); past it, ceremony starts answer 503 with Retry-After.
         */
        max_challenges: z.number().int().min(1).default(10_000),
      })
      .prefault({}),
    risk: z
      .object({
        ip_lists: z
          .array(ipListSchema)
          .default([])
          .refine((lists) => new Set(lists.map((l) => l.name)).size === lists.length, {
            message: "list names must be unique (they name the risk reasons)",
          }),
        geo: z
          .object({
            enabled: z.boolean().default(true),
            country_mismatch_points: z.number().int().min(0).max(100).default(40),
            impossible_travel_points: z.number().int().min(0).max(100).default(30),
            max_speed_kmh: z.number().positive().default(1000),
            /** Moves shorter than this are geoip noise (city-level accuracy), never travel. */
            min_travel_km: z.number().min(0).default(100),
          })
          .prefault({}),
        rate: z
          .object({
            window: limitWindow("60s"),
            /** Above a soft limit the request gains risk points; above a hard limit it gets 429. */
            soft: rateLimits(300, 600, 600),
            hard: rateLimits(1200, 2400, 2400),
            soft_points: z.number().int().min(0).max(100).default(30),
          })
          .refine((rate) => (["session", "user", "ip"] as const).every((k) => rate.soft[k] <= rate.hard[k]), {
            message: "every soft limit must be at most its hard limit",
          })
          .prefault({}),
        user_agent: z.object({ change_points: z.number().int().min(0).max(100).default(20) }).prefault({}),
        dynamic_ip: z
          .object({
            failed_stepup_points: z.number().int().min(0).max(100).default(20),
            rate_violation_points: z.number().int().min(0).max(100).default(20),
            ttl: limitWindow("1h"),
            max_points: z.number().int().min(0).max(100).default(60),
          })
          .prefault({}),
      })
      .prefault({}),
    jwt: z
      .object({
        issuers: z
          .array(jwtIssuerSchema)
          .default([])
          .refine((issuers) => new Set(issuers.map((i) => i.id)).size === issuers.length, {
            message: "issuer ids must be unique (each names its own subject namespace)",
          })
          .refine((issuers) => new Set(issuers.map((i) => i.issuer)).size === issuers.length, {
            message: "each issuer may be listed once",
          }),
        clock_skew: duration("30s"),
        jwks_cache: duration("10m"),
        /** An unknown kid refetches the JWKS (key rotation), at most once per cooldown. */
        jwks_cooldown: duration("30s"),
      })
      .prefault({}),
    events: z
      .object({
        transmitters: z
          .array(
            z.object({
              issuer: z.string().min(1),
              audience: z.union([z.string(), z.array(z.string())]),
              keys: keySourceSchema,
              algorithms,
            }),
          )
          .default([]),
        jti_ttl: limitWindow("7d"),
        max_age: duration("1h"),
      })
      .prefault({}),
    oidc: z
      .object({
        providers: z
          .array(oidcProviderSchema)
          .default([])
          .refine((providers) => new Set(providers.map((p) => p.id)).size === providers.length, {
            message: "provider ids must be unique (they are part of the URLs)",
          }),
        /** How long a sign-in at the IdP may take, from the button to the callback. */
        flow_ttl: duration("10m"),
        /** Discovery documents are refetched this often (and retried sooner while unreachable). */
        discovery_refresh: duration("1h"),
        /** Leeway for the IdP's clock in ID and logout tokens. */
        clock_skew: duration("30s"),
        /** A sign-in at most this old may register a passkey without an enrollment link. */
        passkey_enrollment_window: duration("5m"),
      })
      .prefault({}),
    account: z
      .object({
        /** How recent a passkey check must be to add, rename or delete a passkey on /account. */
        reauth_max_age: duration("5m"),
      })
      .prefault({}),
    console: z
      .object({
        /** Members of this group may use the admin console at /console. */
        group: z
          .string()
          .regex(/^[^\s,]{1,128}$/, "a group name: no spaces or commas")
          .default("admins"),
        /** How recent a passkey check must be to use the console (each page and action checks it). */
        stepup_max_age: duration("10m"),
      })
      .prefault({}),
    audit: z
      .object({
        /** Records kept in the audit stream (Redis trims the oldest, approximately: MAXLEN ~). */
        max_records: z.number().int().min(100).max(1_000_000).default(10_000),
      })
      .prefault({}),
    ui: z
      .object({
        /** Shown beside the product name in every page's header, e.g. "Example Corp sign-in". */
        title: z.string().trim().min(1).max(80).optional(),
        /** An SVG, PNG or WebP file shown in the header; read once at start (at most 256 KiB). */
        logo_path: z
          .string()
          .regex(/\.(svg|png|webp)$/i, "must be a .svg, .png or .webp file")
          .optional(),
        /** What a refused person should do to get access, shown on the 403 page. */
        access_help: z.string().trim().min(1).max(500).optional(),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
        /** Fraction of allow decisions logged (denials and challenges are always logged). */
        allow_sample_rate: z.number().min(0).max(1).default(1),
      })
      .prefault({}),
  })
  .strict();

export type RawConfig = z.input<typeof configSchema>;
export type FileConfig = z.output<typeof configSchema>;
