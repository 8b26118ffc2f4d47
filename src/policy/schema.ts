/** The policy file's schema (YAML). Rules are compiled once at load by compile.ts. */
import { z } from "zod";
import { parseDuration } from "../config/duration.ts";

const ACTIONS = ["bypass", "authenticated", "stepup", "deny"] as const;

const thresholds = z
  .object({
    stepup_at: z.number().int().min(0).max(101).default(40),
    deny_at: z.number().int().min(0).max(101).default(80),
  })
  .refine((t) => t.stepup_at <= t.deny_at, { message: "stepup_at must not exceed deny_at" });

const maxAge = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const nonEmptyStrings = z.array(z.string().min(1)).min(1);

export const ruleSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9_.:-]+$/, "letters, digits and _ . : - only"),
    /** Match: exact host names or "*.suffix" wildcards (any depth below the suffix). */
    hosts: nonEmptyStrings.optional(),
    /** Match: path globs: "*" within one segment, "**" across segments. */
    paths: nonEmptyStrings.optional(),
    /** Match: a regular expression tested against the normalised path. */
    path_regex: z.string().min(1).optional(),
    methods: nonEmptyStrings.optional(),
    /** Match: client address in one of these CIDRs. */
    networks: nonEmptyStrings.optional(),
    /** Requirement (not a match condition): the user must be one of these, or the request is denied. */
    users: nonEmptyStrings.optional(),
    /** Requirement: the user must be in at least one of these groups, or the request is denied. */
    groups: nonEmptyStrings.optional(),
    action: z.enum(ACTIONS),
    /** For stepup: how old the last passkey check may be ("5m", 300, 0 = just now). */
    max_age: maxAge.optional(),
    /** For stepup: which checks satisfy it — a passkey, a fresh IdP authentication, or both (default). */
    via: z
      .array(z.enum(["passkey", "idp"]))
      .min(1)
      .optional(),
    /** Per-rule risk thresholds, overriding the policy's. */
    risk: thresholds.optional(),
  })
  .strict();

export const policySchema = z
  .object({
    /** Optional label shown in logs; the content hash is used otherwise. */
    version: z.string().optional(),
    risk: thresholds.prefault({}),
    /** CORS preflights carry no cookies: let them through on non-deny rules, or demand identity. */
    cors_preflight: z.enum(["allow", "authenticate"]).default("allow"),
    /**
     * Paths holding %2F, %5C, a backslash or %00 mean different things to different backends (one
     * decodes %2F to "/", another does not), so no rule can be matched safely: refuse them with 400
     * (default), or keep them encoded and match as written.
     */
    encoded_slashes: z.enum(["reject", "keep"]).default("reject"),
    /**
     * Paths holding ";" parameters ("/admin;x/y", "/public/..;/admin") are read as "/admin/y" and
     * "/admin" by Tomcat, Jetty and Spring but literally by others: refuse them with 400 (default),
     * or strip ";..." from every segment before dot segments are resolved, as those servers do.
     */
    path_parameters: z.enum(["reject", "strip"]).default("reject"),
    rules: z.array(ruleSchema).default([]),
    default: z.enum(["deny", "authenticated", "stepup"]).default("deny"),
  })
  .strict();

export type PolicyFile = z.output<typeof policySchema>;
export type RuleFile = z.output<typeof ruleSchema>;
