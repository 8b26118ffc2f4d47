/**
 * The admin API's contract: the zod schemas of its bodies and answers, and the table of its
 * routes. routes.ts validates request bodies with these schemas; openapi.ts turns the table into
 * the OpenAPI document served at GET /admin/openapi.json and rendered in docs/admin-api.md. A test
 * checks that every route routes.ts registers is in the table, and that real answers match it.
 */
import { z } from "zod";

// ---- request bodies ----

export const groupsBody = z
  .object({ groups: z.array(z.string()).describe("The user's complete set of groups (replaces the old).") })
  .strict();

export const enrollmentBody = z
  .object({
    groups: z.array(z.string()).optional().describe("Groups of a user created by this link."),
    displayName: z.string().trim().min(1).max(256).optional(),
    display_name: z.string().trim().min(1).max(256).optional().describe("Same as displayName."),
  })
  .strict();

// ---- answers ----

const timestamp = z.iso.datetime().describe("ISO 8601, UTC");

const user = z.strictObject({
  id: z.string(),
  display_name: z.string(),
  status: z.enum(["active", "suspended"]),
  groups: z.array(z.string()),
  created_at: timestamp,
});

const userDetail = user.extend({
  sessions: z.int().nonnegative().describe("Live sessions"),
  passkeys: z.int().nonnegative().describe("Registered passkeys"),
});

const session = z.strictObject({
  id: z.string().describe("The session's public handle (never the cookie token)"),
  user: z.string(),
  created_at: timestamp,
  last_seen_at: timestamp,
  ip: z.string().describe("Where the session signed in or last stepped up"),
  country: z.string(),
  acr: z.string(),
  amr: z.array(z.string()),
  auth_at: timestamp,
  step_up_at: timestamp.nullable().describe("null when the session never stepped up"),
});

const passkey = z.strictObject({
  id: z.string().describe("Credential id, base64url"),
  label: z.string(),
  device_type: z.enum(["singleDevice", "multiDevice"]),
  backed_up: z.boolean(),
  transports: z.array(z.string()),
  counter: z.int().nonnegative(),
  created_at: timestamp,
  last_used_at: timestamp.nullable(),
});

const adminError = z.strictObject({
  error: z.string().describe("A stable code, e.g. user_not_found"),
  message: z.string(),
});

/** The shapes the answers share, named in the document's components. */
export const ADMIN_COMPONENTS: Readonly<Record<string, z.ZodType>> = {
  User: user,
  UserDetail: userDetail,
  Session: session,
  Passkey: passkey,
  Error: adminError,
};

const count = z.int().nonnegative();

// ---- routes ----

export interface AdminRoute {
  method: "get" | "post" | "put" | "delete";
  /** As routes.ts registers it (Hono syntax: /admin/users/:user). */
  path: string;
  /** Also the `action` of the route's audit line. */
  operationId: string;
  summary: string;
  body?: { schema: z.ZodType; required: boolean };
  status: 200 | 201;
  response: z.ZodType;
  /** Refusals besides 401, 503 store_unavailable and 500, which every route can answer. */
  errors: { status: 400 | 404 | 409 | 503; when: string }[];
}

const unknownUser = { status: 404, when: "no such user" } as const;

/** Routes whose change is a security write: confirmed by Redis replicas (WAIT) or refused. */
const notConfirmed = {
  status: 503,
  when:
    "`not_confirmed`: the change reached Redis but not enough replicas acknowledged it in time, " +
    "so a failover could undo it; retry (with Retry-After)",
} as const;

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  {
    method: "get",
    path: "/admin/openapi.json",
    operationId: "openapi",
    summary: "This document.",
    status: 200,
    response: z.looseObject({ openapi: z.string() }),
    errors: [],
  },
  {
    method: "get",
    path: "/admin/users",
    operationId: "list_users",
    summary: "Every user, by id.",
    status: 200,
    response: z.strictObject({ users: z.array(user) }),
    errors: [],
  },
  {
    method: "get",
    path: "/admin/users/:user",
    operationId: "get_user",
    summary: "One user, with how many sessions and passkeys they have.",
    status: 200,
    response: z.strictObject({ user: userDetail }),
    errors: [unknownUser],
  },
  {
    method: "get",
    path: "/admin/users/:user/sessions",
    operationId: "list_sessions",
    summary: "The user's live sessions, most recently seen first.",
    status: 200,
    response: z.strictObject({ sessions: z.array(session) }),
    errors: [unknownUser],
  },
  {
    method: "delete",
    path: "/admin/users/:user/sessions",
    operationId: "revoke_user_sessions",
    summary: "Ends every session of the user, on every replica from the next request.",
    status: 200,
    response: z.strictObject({ revoked: count }),
    errors: [unknownUser, notConfirmed],
  },
  {
    method: "delete",
    path: "/admin/sessions/:id",
    operationId: "revoke_session",
    summary: "Ends one session, named by its public handle.",
    status: 200,
    response: z.strictObject({ revoked: z.literal(1), session: z.string(), user: z.string() }),
    errors: [{ status: 404, when: "no such session" }, notConfirmed],
  },
  {
    method: "post",
    path: "/admin/users/:user/suspend",
    operationId: "suspend",
    summary:
      "Suspends the user: every session and token of theirs answers 403 user_suspended from the next request.",
    status: 200,
    response: z.strictObject({ user, sessions: count.describe("Sessions kept, answering 403") }),
    errors: [unknownUser, notConfirmed],
  },
  {
    method: "post",
    path: "/admin/users/:user/resume",
    operationId: "resume",
    summary: "Lifts a suspension, ending every session the user had first (they sign in again).",
    status: 200,
    response: z.strictObject({ user, revoked: count }),
    errors: [unknownUser, notConfirmed],
  },
  {
    method: "put",
    path: "/admin/users/:user/groups",
    operationId: "set_groups",
    summary: "Replaces the user's groups; /auth reads them live on every request.",
    body: { schema: groupsBody, required: true },
    status: 200,
    response: z.strictObject({ user }),
    errors: [
      { status: 400, when: "a body that is not this shape, or an invalid group name" },
      unknownUser,
      notConfirmed,
    ],
  },
  {
    method: "get",
    path: "/admin/users/:user/credentials",
    operationId: "list_passkeys",
    summary: "The user's passkeys, oldest first.",
    status: 200,
    response: z.strictObject({ credentials: z.array(passkey) }),
    errors: [unknownUser],
  },
  {
    method: "delete",
    path: "/admin/users/:user/credentials/:id",
    operationId: "delete_passkey",
    summary: "Deletes one of the user's passkeys.",
    status: 200,
    response: z.strictObject({ deleted: z.string() }),
    errors: [{ status: 404, when: "no such user, or the user has no such passkey" }, notConfirmed],
  },
  {
    method: "post",
    path: "/admin/users/:user/enrollments",
    operationId: "mint_enrollment",
    summary:
      "Mints a one-time link to register a passkey, creating the user (active) when missing. " +
      "The link is a secret: it is in this answer only, never in a log.",
    body: { schema: enrollmentBody, required: false },
    status: 201,
    response: z.strictObject({ url: z.url(), expires_at: timestamp, user }),
    errors: [{ status: 400, when: "a body that is not this shape, an invalid user id or group name" }],
  },
  {
    method: "post",
    path: "/admin/users/:user/recovery",
    operationId: "mint_recovery",
    summary:
      "Mints a single-use recovery link (a new passkey) valid webauthn.recovery_ttl; every earlier " +
      "link of the user stops working. The link is in this answer only, never in a log.",
    status: 201,
    response: z.strictObject({ url: z.url(), expires_at: timestamp, user }),
    errors: [unknownUser, { status: 409, when: "the user is suspended (resume them first)" }],
  },
  {
    method: "delete",
    path: "/admin/users/:user",
    operationId: "delete_user",
    summary:
      "Deletes the user: refused everywhere at once, then their sessions, passkeys, outstanding " +
      "links and record are removed. The audit trail keeps the deletion.",
    status: 200,
    response: z.strictObject({ deleted: z.string(), sessions: count, passkeys: count }),
    errors: [unknownUser, notConfirmed],
  },
];
