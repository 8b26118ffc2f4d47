/** @jsxImportSource hono/jsx */
/**
 * The account page: the signed-in person's passkeys and sessions, with the actions they may take.
 * Passkey changes show only after a fresh passkey check; without one the page offers that check.
 */
import type { FC } from "hono/jsx";
import type { Session } from "../../core/types.ts";
import type { StoredCredential } from "../../ports.ts";
import { authenticatorName } from "../../webauthn/authenticator-names.ts";
import { currentBranding } from "../ui/branding.ts";
import { ColumnHeads } from "../ui/column-heads.tsx";
import { formatTime, signInMethod } from "../ui/format.ts";
import { SignedInNav } from "../ui/nav.tsx";
import { Shell } from "../ui/shell.tsx";

/** Outcome messages named by the redirect after a form post (never text from the request). */
export const ACCOUNT_MESSAGES: Record<string, { kind: "ok" | "error"; text: string }> = {
  added: { kind: "ok", text: "Passkey added." },
  renamed: { kind: "ok", text: "Passkey renamed." },
  deleted: { kind: "ok", text: "Passkey deleted." },
  ended: { kind: "ok", text: "That session is signed out." },
  ended_others: { kind: "ok", text: "Every other session is signed out." },
  last_passkey: {
    kind: "error",
    text: "That is your only passkey: add another one before you delete it, or you could not sign in again.",
  },
  invalid_name: { kind: "error", text: "A passkey name is 1 to 64 characters." },
  passkey_not_found: { kind: "error", text: "That passkey is already gone." },
  session_not_found: { kind: "error", text: "That session has already ended." },
  stale: { kind: "error", text: "Confirm it's you with your passkey first, then try again." },
  bad_form: { kind: "error", text: "The form could not be read. Reload the page and try again." },
};

export interface AccountView {
  nonce: string;
  script: string;
  userId: string;
  isAdmin: boolean;
  passkeys: StoredCredential[];
  sessions: Session[];
  currentSessionId: string;
  /** A passkey check recent enough to change passkeys. */
  fresh: boolean;
  stepUpUrl: string;
  message: string | undefined;
}

const passkeyName = (p: StoredCredential) => p.name ?? authenticatorName(p.label) ?? "Passkey";

const PasskeyRow: FC<{ passkey: StoredCredential; fresh: boolean; canDelete: boolean }> = ({
  passkey,
  fresh,
  canDelete,
}) => {
  const name = passkeyName(passkey);
  const id = encodeURIComponent(passkey.id);
  return (
    <tr>
      <td>
        <strong>{name}</strong>
        <br />
        <span class="muted">{authenticatorName(passkey.label) ?? "Unknown authenticator"}</span>
      </td>
      <td>
        <span class="badge">
          {passkey.backedUp || passkey.deviceType === "multiDevice" ? "Synced" : "This device only"}
        </span>
      </td>
      <td>{formatTime(passkey.createdAt)}</td>
      <td>{formatTime(passkey.lastUsedAt)}</td>
      <td>
        {fresh ? (
          <>
            <form class="inline" method="post" action={`/account/passkeys/${id}/rename`}>
              <label class="visually-hidden" for={`name-${passkey.id}`}>
                New name for {name}
              </label>
              <input id={`name-${passkey.id}`} name="name" value={name} maxlength={64} required size={14} />{" "}
              <button type="submit">Rename</button>
            </form>{" "}
            {canDelete ? (
              <form class="inline" method="post" action={`/account/passkeys/${id}/delete`}>
                <button type="submit" class="danger" aria-label={`Delete ${name}`}>
                  Delete
                </button>
              </form>
            ) : (
              <span class="muted">Your only passkey</span>
            )}
          </>
        ) : null}
      </td>
    </tr>
  );
};

const SessionRow: FC<{ session: Session; current: boolean }> = ({ session, current }) => (
  <tr>
    <td>
      <strong>{session.device ?? "Unknown device"}</strong>
      {current ? (
        <>
          {" "}
          <span class="badge">This device</span>
        </>
      ) : null}
      <br />
      <span class="muted">
        {session.ip}
        {session.country ? ` · ${session.country}` : ""}
      </span>
    </td>
    <td>
      {session.federation ? `single sign-on (${session.federation.provider})` : signInMethod(session.amr)}
      <br />
      <span class="muted">acr {session.acr}</span>
    </td>
    <td>{formatTime(session.authAt)}</td>
    <td>{formatTime(session.lastSeenAt)}</td>
    <td>
      {current ? (
        <form class="inline" method="post" action="/logout">
          <button type="submit">Sign out</button>
        </form>
      ) : (
        <form class="inline" method="post" action={`/account/sessions/${encodeURIComponent(session.id)}/end`}>
          <button type="submit" aria-label={`Sign out ${session.device ?? "that device"}`}>
            Sign out
          </button>
        </form>
      )}
    </td>
  </tr>
);

export const AccountPage: FC<AccountView> = (view) => {
  const message = view.message === undefined ? undefined : ACCOUNT_MESSAGES[view.message];
  const others = view.sessions.filter((s) => s.id !== view.currentSessionId).length;
  return (
    <Shell
      title="Your account"
      nonce={view.nonce}
      script={view.script}
      branding={currentBranding()}
      wide
      nav={<SignedInNav userId={view.userId} isAdmin={view.isAdmin} />}
    >
      <h1>Your account</h1>
      <p class="lead">
        Signed in as <strong>{view.userId}</strong>.
      </p>
      {message ? (
        <p class={`notice ${message.kind}`} role={message.kind === "error" ? "alert" : "status"}>
          {message.text}
        </p>
      ) : null}

      <section aria-labelledby="passkeys" data-ceremony="add-passkey">
        <h2 id="passkeys">Passkeys</h2>
        {view.fresh ? null : (
          <p class="notice">
            To add, rename or delete a passkey, first <a href={view.stepUpUrl}>confirm it's you</a> with a
            passkey.
          </p>
        )}
        <table>
          <ColumnHeads names={["Name", "Kind", "Created", "Last used"]} actions />
          <tbody>
            {view.passkeys.map((passkey) => (
              <PasskeyRow passkey={passkey} fresh={view.fresh} canDelete={view.passkeys.length > 1} />
            ))}
          </tbody>
        </table>
        {view.fresh ? (
          <>
            <button id="start" class="primary" type="button" disabled>
              Add a passkey
            </button>
            <p id="status" role="status" aria-live="polite" />
          </>
        ) : null}
      </section>

      <section aria-labelledby="sessions">
        <h2 id="sessions">Where you're signed in</h2>
        <table>
          <ColumnHeads names={["Device", "Method", "Signed in", "Last seen"]} actions />
          <tbody>
            {view.sessions.map((session) => (
              <SessionRow session={session} current={session.id === view.currentSessionId} />
            ))}
          </tbody>
        </table>
        {others > 0 ? (
          <form method="post" action="/account/sessions/end-others">
            <button type="submit" class="danger">
              Sign out everywhere else ({others})
            </button>
          </form>
        ) : null}
      </section>
    </Shell>
  );
};
