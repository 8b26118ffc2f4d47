/** @jsxImportSource hono/jsx */
/**
 * The portal's pages: small, server-rendered (hono/jsx), accessible, and clear about what is
 * asked, why, and what to do without a passkey. One script (the bundled ceremony) and the shared
 * stylesheet (http/ui), both carrying the response's CSP nonce; no external assets.
 */
import type { Child, FC } from "hono/jsx";
import { currentBranding } from "../ui/branding.ts";
import { Shell as UiShell } from "../ui/shell.tsx";

interface Shell {
  title: string;
  nonce: string;
  /** Path of the bundled ceremony script, when the page runs one. */
  script?: string | undefined;
  children?: Child;
}

export const Layout: FC<Shell> = ({ title, nonce, script, children }) => (
  <UiShell title={title} nonce={nonce} script={script} branding={currentBranding()}>
    {children}
  </UiShell>
);

const Status: FC = () => <p id="status" role="status" aria-live="polite" />;

const NoPasskeyHelp: FC = () => (
  <p class="help">
    No passkey on this device, or lost it? Passkeys are created from an enrollment link: ask an administrator
    for a new one.
  </p>
);

interface CeremonyPage {
  nonce: string;
  script: string;
  rd: string;
}

/** An identity provider's button: a plain link to /oidc/<id>/login (no script needed). */
export interface ProviderButton {
  id: string;
  name: string;
}

const providerHref = (id: string, rd: string, stepUp: boolean) =>
  `/oidc/${encodeURIComponent(id)}/login?rd=${encodeURIComponent(rd)}${stepUp ? "&stepup=1" : ""}`;

const ProviderButtons: FC<{ providers: ProviderButton[]; rd: string; stepUp: boolean; verb: string }> = ({
  providers,
  rd,
  stepUp,
  verb,
}) =>
  providers.length === 0 ? null : (
    <ul class="providers">
      {providers.map((provider) => (
        <li>
          <a class="button" data-provider={provider.id} href={providerHref(provider.id, rd, stepUp)}>
            {verb} {provider.name}
          </a>
        </li>
      ))}
    </ul>
  );

export const LoginPage: FC<CeremonyPage & { providers?: ProviderButton[] }> = ({
  nonce,
  script,
  rd,
  providers = [],
}) => (
  <Layout title="Sign in" nonce={nonce} script={script}>
    <section data-ceremony="login" data-rd={rd} aria-labelledby="title">
      <h1 id="title">Sign in</h1>
      <p>
        The page you asked for needs you to be signed in. Use your passkey: your device will ask for your
        fingerprint, face, PIN or security key.
      </p>
      <button id="start" class="primary" type="button" disabled autofocus>
        Sign in with a passkey
      </button>
      <ProviderButtons providers={providers} rd={rd} stepUp={false} verb="Sign in with" />
      <Status />
      <NoPasskeyHelp />
    </section>
  </Layout>
);

export const StepUpPage: FC<
  CeremonyPage & { userId: string; providers?: ProviderButton[]; passkey?: boolean }
> = ({ nonce, script, rd, userId, providers = [], passkey = true }) => (
  <Layout title="Confirm it's you" nonce={nonce} script={script}>
    <section data-ceremony="stepup" data-rd={rd} aria-labelledby="title">
      <h1 id="title">Confirm it's you</h1>
      {passkey ? (
        <p>
          This page needs a fresh passkey check. You are signed in as <strong>{userId}</strong>; confirm with
          your passkey (fingerprint, face, PIN or security key) to continue.
        </p>
      ) : (
        <p>
          This page needs you to sign in again at your identity provider. You are signed in as{" "}
          <strong>{userId}</strong>.
        </p>
      )}
      {passkey ? (
        <button id="start" class="primary" type="button" disabled autofocus>
          Verify with my passkey
        </button>
      ) : null}
      <ProviderButtons providers={providers} rd={rd} stepUp={true} verb="Verify with" />
      <Status />
      {passkey ? <NoPasskeyHelp /> : null}
      <form class="inline" method="post" action="/logout">
        <button type="submit">Not you? Sign out</button>
      </form>
    </section>
  </Layout>
);

export const EnrollPage: FC<CeremonyPage & { token: string; userId: string }> = ({
  nonce,
  script,
  rd,
  token,
  userId,
}) => (
  <Layout title="Create your passkey" nonce={nonce} script={script}>
    <section data-ceremony="enroll" data-token={token} data-rd={rd} aria-labelledby="title">
      <h1 id="title">Create your passkey</h1>
      <p>
        You were invited to sign in as <strong>{userId}</strong>. Create a passkey on this device or security
        key: it replaces a password, and your device will ask for your fingerprint, face or PIN.
      </p>
      <p>This link works once. After it, you sign in with the passkey.</p>
      <button id="start" class="primary" type="button" disabled autofocus>
        Create a passkey
      </button>
      <Status />
    </section>
  </Layout>
);

export const MessagePage: FC<{ nonce: string; title: string; children?: Child }> = ({
  nonce,
  title,
  children,
}) => (
  <Layout title={title} nonce={nonce}>
    <h1 tabindex={-1}>{title}</h1>
    {children}
  </Layout>
);

export const EnrollLinkInvalidPage: FC<{ nonce: string }> = ({ nonce }) => (
  <MessagePage nonce={nonce} title="This enrollment link can't be used">
    <p>
      It has expired, has already been used, or is not a valid link. Each link works once and only for a
      limited time.
    </p>
    <p>Ask an administrator for a new enrollment link.</p>
  </MessagePage>
);

export const SignedInPage: FC<{ nonce: string; userId: string; canAddPasskey?: boolean }> = ({
  nonce,
  userId,
  canAddPasskey = false,
}) => (
  <MessagePage nonce={nonce} title="You're signed in">
    <p>
      Signed in as <strong>{userId}</strong>. You can go back to the application you were using.
    </p>
    {canAddPasskey ? (
      <form method="post" action="/oidc/passkey">
        <p>Add a passkey to this account, so pages that ask for a fresh check can use it.</p>
        <button type="submit" id="add-passkey">
          Add a passkey
        </button>
      </form>
    ) : null}
    <p>
      <a href="/account">Your passkeys and sessions</a>
    </p>
    <form method="post" action="/logout">
      <button type="submit">Sign out</button>
    </form>
  </MessagePage>
);

export const SignedOutPage: FC<{ nonce: string }> = ({ nonce }) => (
  <MessagePage nonce={nonce} title="You're signed out">
    <p>
      Your session has ended. <a href="/login">Sign in again</a>.
    </p>
  </MessagePage>
);

export const BannedPage: FC<{ nonce: string; retryAfterSec: number }> = ({ nonce, retryAfterSec }) => (
  <MessagePage nonce={nonce} title="Too many failed attempts">
    <p>
      Passkey checks are paused for this account or network after too many failures. Try again in{" "}
      {Math.ceil(retryAfterSec / 60)} minute(s). If this keeps happening, contact an administrator.
    </p>
  </MessagePage>
);
