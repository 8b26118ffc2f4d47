/** @jsxImportSource hono/jsx */
/** The pages of the OIDC flow: only its problems have their own (success is a redirect). */
import type { FC } from "hono/jsx";
import { MessagePage } from "../portal/pages.tsx";

export const OidcProblemPage: FC<{ nonce: string; title: string; message: string; reason: string }> = ({
  nonce,
  title,
  message,
  reason,
}) => (
  <MessagePage nonce={nonce} title={title}>
    <p>{message}</p>
    <p>
      <a href="/login">Back to sign-in</a>
    </p>
    <p class="help">
      Reason code: <code id="reason">{reason}</code>
    </p>
  </MessagePage>
);

/** After /logout of an IdP session: on to the IdP's end_session_endpoint (a meta refresh, not a redirect of the form post, which the pages' CSP form-action would block). */
export const IdpSignOutPage: FC<{ nonce: string; url: string; provider: string }> = ({
  nonce,
  url,
  provider,
}) => (
  <MessagePage nonce={nonce} title="You're signed out">
    <meta http-equiv="refresh" content={`0;url=${url}`} />
    <p>
      Your Vigil session has ended. Signing you out of {provider} too:{" "}
      <a id="idp-logout" href={url}>
        continue to {provider}
      </a>
      .
    </p>
  </MessagePage>
);
