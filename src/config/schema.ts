/**
 * The configuration file's schema (YAML, snake_case like the policy file). Every field has a
 * secure default, so an empty file (or none) is a valid single-replica setup on localhost.
 */
import { z } from "zod";
import { parseDuration } from "./duration.ts";

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

const cidr = z
  .string()
  .regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, "must be an IP address or CIDR, e.g. 10.0.0.0/8 or fd00::/8");

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

const keySourceSchema = z
  .object({
    jwks_url: z.url().optional(),
    /** Static public keys: JWKs (objects) or PEM strings (SPKI). */
    keys: z.array(z.union([z.record(z.string(), z.unknown()), z.string()])).optional(),
  })
  .refine((v) => v.jwks_url !== undefined || (v.keys !== undefined && v.keys.length > 0), {
    message: "needs jwks_url or keys",
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
        url: z.string().optional(),
        prefix: z.string().default("vigil:"),
        command_timeout: duration("500ms"),
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
      })
      .prefault({}),
    bootstrap: z
      .object({
        /** With an empty user store, `bun start` prints a one-time enrollment link for this user. */
        admin_user: z.string().default("admin"),
        admin_groups: z.array(z.string()).default(["admins"]),
      })
      .prefault({}),
    regulation: z
      .object({
        max_retries: z.number().int().min(1).default(5),
        find_time: duration("10m"),
        ban_time: duration("15m"),
        /** Ceremony starts (each stores a challenge) per client IP per start_window; past it, 429. */
        max_starts: z.number().int().min(1).default(30),
        start_window: duration("1m"),
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
            window: duration("60s"),
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
            ttl: duration("1h"),
            max_points: z.number().int().min(0).max(100).default(60),
          })
          .prefault({}),
      })
      .prefault({}),
    jwt: z
      .object({
        issuers: z
          .array(
            z.object({
              issuer: z.string().min(1),
              audience: z.union([z.string(), z.array(z.string())]),
              keys: keySourceSchema,
              algorithms: z.array(z.string()).default(["RS256", "ES256", "EdDSA"]),
              groups_claim: z.string().default("groups"),
            }),
          )
          .default([]),
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
              algorithms: z.array(z.string()).default(["RS256", "ES256", "EdDSA"]),
            }),
          )
          .default([]),
        jti_ttl: duration("7d"),
        max_age: duration("1h"),
      })
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
