/**
 * How the OIDC routes refuse: a browser gets a small page that says what happened and what to do,
 * an API client the same as JSON. Both are logged with a reason code, never with a token or code.
 */
import { newNonce, type PortalContext, renderPage } from "../portal/context.ts";
import { OidcProblemPage } from "./pages.tsx";

export type ProblemStatus = 400 | 403 | 404 | 429 | 503;

const PROBLEMS: Record<string, { title: string; message: string }> = {
  unknown_provider: { title: "Unknown sign-in provider", message: "This sign-in option does not exist." },
  provider_unavailable: {
    title: "Your identity provider is not reachable",
    message:
      "Vigil cannot reach your organisation's sign-in service right now. Nothing was changed; try again in a minute.",
  },
  flow_missing: {
    title: "This sign-in has expired",
    message:
      "The sign-in took too long, was already completed, or was started in another browser. Start again.",
  },
  flow_mismatch: {
    title: "Sign-in refused",
    message: "The answer from the identity provider does not belong to this sign-in. Start again.",
  },
  idp_refused: {
    title: "Sign-in refused",
    message: "The identity provider did not confirm your sign-in. Start again.",
  },
  token_invalid: {
    title: "Sign-in refused",
    message:
      "The identity provider's answer could not be verified, so it was not trusted. Start again; if it keeps happening, contact an administrator.",
  },
  no_user_claim: { title: "Sign-in refused", message: "The identity provider did not say who you are." },
  domain_not_allowed: {
    title: "Sign-in refused",
    message: "Accounts of your email domain may not sign in here.",
  },
  group_not_allowed: {
    title: "Sign-in refused",
    message: "Your account is not in a group that may sign in here.",
  },
  unknown_user: {
    title: "No access yet",
    message: "Your account is not known to Vigil. Ask an administrator to add you.",
  },
  account_inactive: {
    title: "Account suspended",
    message: "This account is suspended. Contact an administrator.",
  },
  subject_taken: {
    title: "Sign-in refused",
    message: "This identity-provider account is already linked to another user. Contact an administrator.",
  },
  user_taken: {
    title: "Sign-in refused",
    message: "This user is linked to a different identity-provider account. Contact an administrator.",
  },
  acr_not_satisfied: {
    title: "Verification not strong enough",
    message:
      "The identity provider confirmed you at a lower level than this page needs (for example without a second factor). Try again and use the stronger method.",
  },
  auth_time_stale: {
    title: "Verification not fresh",
    message:
      "The identity provider did not ask you to sign in again, so this page's fresh check is not done. Try again.",
  },
  different_user: {
    title: "Different account",
    message:
      "You confirmed with a different account than the one signed in here. Sign out first, or confirm with your own account.",
  },
  no_session: { title: "Not signed in", message: "Your session ended. Sign in again." },
  stepup_not_offered: { title: "Not available", message: "This provider is not set up for step-up checks." },
  too_many_requests: {
    title: "Too many attempts",
    message: "Too many sign-in attempts from your address. Wait a minute and try again.",
  },
};

export function wantsJson(c: PortalContext): boolean {
  const accept = c.req.header("accept") ?? "";
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}

export async function problem(
  c: PortalContext,
  status: ProblemStatus,
  reason: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const text = PROBLEMS[reason] ?? {
    title: "Sign-in refused",
    message: "The sign-in could not be completed. Start again.",
  };
  if (wantsJson(c)) {
    return c.json({ error: reason, message: text.message }, status, {
      "cache-control": "no-store",
      ...headers,
    });
  }
  const nonce = newNonce();
  return renderPage(
    nonce,
    OidcProblemPage({ nonce, title: text.title, message: text.message, reason }),
    status,
    headers,
  );
}
