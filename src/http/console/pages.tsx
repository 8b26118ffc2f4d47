/** @jsxImportSource hono/jsx */
/**
 * The admin console's pages: overview (drawn from the metrics history), user search, a user's page
 * with every admin action, the one-time link page (with its QR code) and the audit trail.
 * Every form posts same-origin to /console/…; outcomes come back as named messages.
 */
import type { Child, FC } from "hono/jsx";
import type { CredentialView, SessionView, UserView } from "../../admin/operations.ts";
import type { AuditRecord } from "../../ports.ts";
import { authenticatorName } from "../../webauthn/authenticator-names.ts";
import { currentBranding } from "../ui/branding.ts";
import { ColumnHeads } from "../ui/column-heads.tsx";
import { formatTime, signInMethod } from "../ui/format.ts";
import { SignedInNav } from "../ui/nav.tsx";
import { Shell } from "../ui/shell.tsx";
import { BarChart, RateChart } from "./charts.tsx";
import { OUTCOMES, type Overview } from "./overview.ts";

/** Outcome messages named by the redirect after a form post (never text from the request). */
export const CONSOLE_MESSAGES: Record<string, { kind: "ok" | "error"; text: string }> = {
  suspended: { kind: "ok", text: "User suspended: every request of theirs is now refused." },
  resumed: { kind: "ok", text: "User resumed; their earlier sessions are ended, so they sign in again." },
  groups_set: { kind: "ok", text: "Groups saved." },
  sessions_revoked: { kind: "ok", text: "Sessions revoked." },
  session_revoked: { kind: "ok", text: "Session revoked." },
  passkey_deleted: { kind: "ok", text: "Passkey deleted." },
  user_deleted: { kind: "ok", text: "User deleted." },
  invalid_groups: { kind: "error", text: "Group names are 1-128 characters without spaces or commas." },
  user_not_found: { kind: "error", text: "There is no such user." },
  session_not_found: { kind: "error", text: "That session has already ended." },
  passkey_not_found: { kind: "error", text: "That passkey is already gone." },
  user_suspended: { kind: "error", text: "The user is suspended: resume them first." },
  not_yourself: {
    kind: "error",
    text: "You cannot suspend or delete your own account here: ask another admin.",
  },
  confirm_mismatch: { kind: "error", text: "Type the user's id exactly to confirm the deletion." },
  bad_form: { kind: "error", text: "The form could not be read. Reload the page and try again." },
};

export interface ConsoleFrame {
  nonce: string;
  adminId: string;
  message?: string | undefined;
}

const ConsoleShell: FC<ConsoleFrame & { title: string; children?: Child }> = ({
  nonce,
  adminId,
  title,
  message,
  children,
}) => {
  const shown = message === undefined ? undefined : CONSOLE_MESSAGES[message];
  return (
    <Shell
      title={title}
      nonce={nonce}
      branding={currentBranding()}
      wide
      nav={
        <>
          <a href="/console">Overview</a>
          <a href="/console/users">Users</a>
          <a href="/console/audit">Audit</a>
          <SignedInNav userId={adminId} isAdmin={false} />
        </>
      }
    >
      <h1>{title}</h1>
      {shown ? (
        <p class={`notice ${shown.kind}`} role={shown.kind === "error" ? "alert" : "status"}>
          {shown.text}
        </p>
      ) : null}
      {children}
    </Shell>
  );
};

const SearchForm: FC<{ query?: string }> = ({ query }) => (
  <search>
    <form method="get" action="/console/users">
      <label for="q">Find a user</label>
      <input id="q" name="q" type="search" value={query ?? ""} maxlength={256} />{" "}
      <button type="submit">Search</button>
    </form>
  </search>
);

const percent = (rate: number | undefined) =>
  rate === undefined ? "no checks" : `${Math.round(rate * 100)} %`;

export const OverviewPage: FC<ConsoleFrame & { overview: Overview }> = ({ overview, ...frame }) => {
  const series = OUTCOMES.map((name) => ({ name, points: overview.rates[name] ?? [] }));
  const totals = OUTCOMES.map((o) => `${o} ${overview.totals[o] ?? 0}`).join(", ");
  return (
    <ConsoleShell {...frame} title="Overview">
      <SearchForm />
      <p class="muted">
        The last {Math.max(1, Math.round(overview.spanSec / 60))} minute(s) on this replica, sampled from its
        metrics.
      </p>
      <div class="grid">
        <div>
          <p class="muted">Decisions</p>
          <p class="figure" id="decisions-total">
            {Object.values(overview.totals).reduce((a, b) => a + b, 0)}
          </p>
        </div>
        <div>
          <p class="muted">Step-up challenges</p>
          <p class="figure" id="stepup-challenges">
            {overview.stepUpChallenges}
          </p>
        </div>
        <div>
          <p class="muted">Step-up success rate</p>
          <p class="figure" id="stepup-success">
            {percent(overview.stepUpSuccessRate)}
          </p>
          <p class="muted">
            {overview.stepUpSuccesses} passed, {overview.stepUpFailures} failed
          </p>
        </div>
      </div>
      <h2>Decisions per second</h2>
      <RateChart
        series={series}
        from={overview.from}
        title="Decisions per second by outcome"
        description={`Totals: ${totals}.`}
      />
      <ul class="legend">
        {OUTCOMES.map((o) => (
          <li>
            <span class={`swatch swatch-${o}`} aria-hidden="true" />
            {o} ({overview.totals[o] ?? 0})
          </li>
        ))}
      </ul>
      <div class="grid">
        <section aria-labelledby="deny-reasons">
          <h2 id="deny-reasons">Top deny reasons</h2>
          <BarChart bars={overview.topDenyReasons} title="Top deny reasons" id="deny" />
        </section>
        <section aria-labelledby="risk-signals">
          <h2 id="risk-signals">Risk signals</h2>
          <BarChart bars={overview.riskSignals} title="Risk signals that fired" id="risk" />
        </section>
      </div>
    </ConsoleShell>
  );
};

export const UsersPage: FC<ConsoleFrame & { query: string; users: UserView[]; more: boolean }> = ({
  query,
  users,
  more,
  ...frame
}) => (
  <ConsoleShell {...frame} title="Users">
    <SearchForm query={query} />
    <table>
      <ColumnHeads names={["User", "Status", "Groups", "Created"]} />
      <tbody>
        {users.map((user) => (
          <tr>
            <td>
              <a href={`/console/users/${encodeURIComponent(user.id)}`}>{user.id}</a>
              {user.display_name !== user.id ? <span class="muted"> · {user.display_name}</span> : null}
            </td>
            <td>{user.status}</td>
            <td>{user.groups.join(", ")}</td>
            <td>{formatTime(Date.parse(user.created_at))}</td>
          </tr>
        ))}
      </tbody>
    </table>
    {users.length === 0 ? <p>No user matches.</p> : null}
    {more ? <p class="muted">More users match: refine the search.</p> : null}
  </ConsoleShell>
);

const PostButton: FC<{ action: string; label: string; danger?: boolean; ariaLabel?: string }> = ({
  action,
  label,
  danger,
  ariaLabel,
}) => (
  <form class="inline" method="post" action={action}>
    <button type="submit" class={danger ? "danger" : undefined} aria-label={ariaLabel}>
      {label}
    </button>
  </form>
);

export const UserPage: FC<
  ConsoleFrame & { user: UserView; passkeys: CredentialView[]; sessions: SessionView[] }
> = ({ user, passkeys, sessions, ...frame }) => {
  const base = `/console/users/${encodeURIComponent(user.id)}`;
  const self = user.id === frame.adminId;
  return (
    <ConsoleShell {...frame} title={`User ${user.id}`}>
      <p>
        Status: <strong id="user-status">{user.status}</strong> · created{" "}
        {formatTime(Date.parse(user.created_at))}
      </p>
      <div class="actions">
        {self ? null : user.status === "active" ? (
          <PostButton action={`${base}/suspend`} label="Suspend" danger />
        ) : (
          <PostButton action={`${base}/resume`} label="Resume" />
        )}
        <PostButton action={`${base}/enrollment`} label="New enrollment link" />
        {user.status === "active" ? (
          <PostButton action={`${base}/recovery`} label="New recovery link" />
        ) : null}
      </div>

      <h2>Groups</h2>
      <form method="post" action={`${base}/groups`}>
        <label for="groups">Groups (comma-separated)</label>
        <input id="groups" name="groups" value={user.groups.join(", ")} size={40} maxlength={4000} />{" "}
        <button type="submit">Save groups</button>
      </form>

      <h2>Passkeys ({passkeys.length})</h2>
      <table>
        <ColumnHeads names={["Authenticator", "Kind", "Created", "Last used"]} actions />
        <tbody>
          {passkeys.map((p) => (
            <tr>
              <td>
                {authenticatorName(p.label) ?? "Unknown authenticator"}
                <br />
                <code class="muted">{p.id.slice(0, 16)}…</code>
              </td>
              <td>{p.backed_up || p.device_type === "multiDevice" ? "Synced" : "Device-bound"}</td>
              <td>{formatTime(Date.parse(p.created_at))}</td>
              <td>{p.last_used_at ? formatTime(Date.parse(p.last_used_at)) : "never"}</td>
              <td>
                <PostButton
                  action={`${base}/passkeys/${encodeURIComponent(p.id)}/delete`}
                  label="Delete"
                  danger
                  ariaLabel={`Delete passkey ${p.id.slice(0, 16)}`}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Sessions ({sessions.length})</h2>
      <table>
        <ColumnHeads names={["Address", "Method", "Signed in", "Last seen"]} actions />
        <tbody>
          {sessions.map((s) => (
            <tr>
              <td>
                {s.ip}
                {s.country ? ` · ${s.country}` : ""}
              </td>
              <td>
                {signInMethod(s.amr)} · acr {s.acr}
              </td>
              <td>{formatTime(Date.parse(s.auth_at))}</td>
              <td>{formatTime(Date.parse(s.last_seen_at))}</td>
              <td>
                <PostButton
                  action={`${base}/sessions/${encodeURIComponent(s.id)}/revoke`}
                  label="Revoke"
                  danger
                  ariaLabel={`Revoke session from ${s.ip}`}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {sessions.length > 0 ? (
        <PostButton action={`${base}/sessions/revoke`} label="Revoke all sessions" danger />
      ) : null}

      {self ? null : (
        <>
          <h2>Delete this user</h2>
          <form method="post" action={`${base}/delete`}>
            <p>Removes their sessions, passkeys and record. The audit trail keeps a record of it.</p>
            <label for="confirm">Type {user.id} to confirm</label>
            <input id="confirm" name="confirm" autocomplete="off" required maxlength={256} />{" "}
            <button type="submit" class="danger">
              Delete user
            </button>
          </form>
        </>
      )}
    </ConsoleShell>
  );
};

export const LinkPage: FC<
  ConsoleFrame & {
    userId: string;
    kind: "enrollment" | "recovery";
    url: string;
    expiresAt: string;
    qr: string;
  }
> = ({ userId, kind, url, expiresAt, qr, ...frame }) => (
  <ConsoleShell {...frame} title={kind === "recovery" ? "Recovery link" : "Enrollment link"}>
    <p class="notice">
      This link is shown once. Give it to <strong>{userId}</strong> over a channel you trust; it works once,
      until {formatTime(Date.parse(expiresAt))}.
      {kind === "recovery" ? " Earlier links of this user no longer work." : ""}
    </p>
    <p class="link-once">
      <code id="minted-link">{url}</code>
    </p>
    <div
      class="qr"
      role="img"
      aria-label={`QR code of the ${kind} link`}
      dangerouslySetInnerHTML={{ __html: qr }}
    />
    <p>
      <a href={`/console/users/${encodeURIComponent(userId)}`}>Back to {userId}</a>
    </p>
  </ConsoleShell>
);

export const AuditPage: FC<ConsoleFrame & { records: AuditRecord[] }> = ({ records, ...frame }) => (
  <ConsoleShell {...frame} title="Audit trail">
    <table>
      <ColumnHeads names={["When", "Who", "What", "Target", "Result", "From"]} />
      <tbody>
        {records.map((r) => (
          <tr>
            <td>{formatTime(r.at)}</td>
            <td>
              {r.actor} <span class="muted">({r.via})</span>
            </td>
            <td>
              {r.action}
              {r.detail ? <span class="muted"> · {r.detail}</span> : null}
            </td>
            <td>{r.target}</td>
            <td class={r.result === "ok" ? undefined : "error"}>{r.result}</td>
            <td>{r.ip}</td>
          </tr>
        ))}
      </tbody>
    </table>
    {records.length === 0 ? <p>No admin change yet.</p> : null}
  </ConsoleShell>
);
