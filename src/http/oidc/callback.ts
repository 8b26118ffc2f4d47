/**
 * GET /oidc/<id>/callback: the IdP sends the browser back with a code. openid-client exchanges it
 * (PKCE verifier, state and nonce from the flow record) and validates the ID token (signature on
 * the IdP's JWKS with the expected algorithm, iss, aud, exp, iat, nonce). Then Vigil's own rules:
 * claims → user (claims.ts), provisioning, suspension, subject binding, group sync; a sign-in
 * creates a session, a step-up checks acr and auth_time and rotates the current one.
 */
import * as client from "openid-client";
import { answersStepUp, type FederatedSignIn, federatedSignIn } from "../../oidc/claims.ts";
import { clearedFlowCookie, FLOW_COOKIE, type FlowRecord, takeFlow } from "../../oidc/flow.ts";
import type { OidcProvider } from "../../oidc/providers.ts";
import { readCookie, readSessionToken, sessionCookie } from "../../session/cookie.ts";
import { sessionIdFromToken } from "../../session/token.ts";
import { type Client, clientOf, type PortalContext, type PortalDeps } from "../portal/context.ts";
import { type ProblemStatus, problem } from "./answer.ts";
import { callbackUrl } from "./login.ts";

/** acr of a session signed in through an IdP that sent no acr. */
export const IDP_DEFAULT_ACR = "idp";

type Refused = { status: ProblemStatus; reason: string };

/** Why the code exchange or the ID token validation failed, in the terms the pages use. */
function exchangeFailure(error: unknown): Refused {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    cause?: { name?: string; code?: string };
  };
  if (e.name === "AuthorizationResponseError" || e.name === "ResponseBodyError") {
    return { status: 400, reason: "idp_refused" };
  }
  const network =
    e.name === "TypeError" ||
    e.cause?.name === "TypeError" ||
    e.name === "TimeoutError" ||
    e.cause?.name === "TimeoutError" ||
    /ECONNREFUSED|ConnectionRefused|ConnectionClosed|fetch failed|Unable to connect|timed out/i.test(
      `${e.code ?? ""} ${e.cause?.code ?? ""} ${e.message ?? ""}`,
    );
  if (network) return { status: 503, reason: "provider_unavailable" };
  return { status: 400, reason: "token_invalid" };
}

export async function finishOidcFlow(
  deps: PortalDeps,
  c: PortalContext,
  provider: OidcProvider,
): Promise<Response> {
  const { settings } = provider;
  const cleared = { "set-cookie": clearedFlowCookie(deps.config) };
  const log = (fields: Record<string, unknown>, message: string) =>
    deps.logger.warn({ event: "oidc_refused", provider: settings.id, ...fields }, message);
  const refuse = (refused: Refused, fields: Record<string, unknown> = {}) => {
    log({ reason: refused.reason, ...fields }, "oidc sign-in refused");
    return problem(c, refused.status, refused.reason, cleared);
  };

  const flowId = readCookie(c.req.header("cookie"), FLOW_COOKIE);
  // Taken, not read: whatever happens next, this flow cannot be completed twice.
  const flow = flowId === undefined ? undefined : await takeFlow(deps.stores.oneTime, flowId);
  if (flow === undefined) return refuse({ status: 400, reason: "flow_missing" });
  if (flow.provider !== settings.id) return refuse({ status: 400, reason: "flow_mismatch" });
  const configuration = provider.configuration();
  if (configuration === undefined) return refuse({ status: 503, reason: "provider_unavailable" });
  const who = clientOf(c, deps);
  if (who === undefined) return refuse({ status: 400, reason: "bad_client_address" });

  const requestUrl = new URL(c.req.url);
  // The state must be this browser's flow's (CSRF on the callback); openid-client checks it again.
  if (requestUrl.searchParams.get("state") !== flow.state)
    return refuse({ status: 400, reason: "flow_mismatch" });
  // The URL as the IdP built it: the portal's public origin, not the address Vigil listens on.
  const query = requestUrl.search;
  const currentUrl = new URL(`${callbackUrl(deps, settings.id)}${query}`);
  let claims: Record<string, unknown>;
  try {
    const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
      pkceCodeVerifier: flow.pkceVerifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    claims = (tokens.claims() ?? {}) as Record<string, unknown>;
  } catch (error) {
    const e = error as { name?: string; code?: string; message?: string };
    return refuse(exchangeFailure(error), { err: e.name, code: e.code, detail: e.message?.slice(0, 200) });
  }

  const mapped = federatedSignIn(claims, settings);
  if (!mapped.ok) return refuse({ status: 403, reason: mapped.reason });
  return flow.purpose === "stepup"
    ? finishStepUp(deps, c, provider, flow, mapped.value, who, refuse)
    : finishSignIn(deps, c, provider, flow, mapped.value, who, refuse);
}

type Refuse = (refused: Refused, fields?: Record<string, unknown>) => Promise<Response>;

function redirectWithSession(deps: PortalDeps, token: string, rd: string): Response {
  const headers = new Headers({
    location: rd,
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
  });
  headers.append("set-cookie", sessionCookie(token, deps.config));
  headers.append("set-cookie", clearedFlowCookie(deps.config));
  return new Response(null, { status: 302, headers });
}

/** Links the IdP account to the Vigil user and records the IdP session for back-channel logout. */
async function linkFederation(
  deps: PortalDeps,
  provider: OidcProvider,
  signIn: FederatedSignIn,
): Promise<"ok" | "subject_taken" | "user_taken"> {
  const { federation } = deps.stores;
  const bound = await federation.bindSubject(provider.settings.id, signIn.subject, signIn.userId);
  if (bound !== "ok") return bound;
  if (signIn.sid !== "") {
    await federation.rememberSid(
      provider.settings.id,
      signIn.sid,
      signIn.userId,
      deps.config.session.absolute_timeout,
    );
  }
  return "ok";
}

async function finishSignIn(
  deps: PortalDeps,
  c: PortalContext,
  provider: OidcProvider,
  flow: FlowRecord,
  signIn: FederatedSignIn,
  who: Client,
  refuse: Refuse,
): Promise<Response> {
  const { stores, config } = deps;
  const now = deps.clock();
  const { settings } = provider;
  // An IdP account linked to another user is refused before anything is created for this one.
  const linkedUser = await stores.federation.userOfSubject(settings.id, signIn.subject);
  if (linkedUser !== undefined && linkedUser !== signIn.userId) {
    return refuse({ status: 403, reason: "subject_taken" }, { user: signIn.userId });
  }
  let user = await stores.users.get(signIn.userId);
  if (user === undefined) {
    if (settings.provisioning !== "jit")
      return refuse({ status: 403, reason: "unknown_user" }, { user: signIn.userId });
    user = { id: signIn.userId, displayName: signIn.userId, status: "active", groups: [], createdAt: now };
    await stores.users.put(user);
    deps.logger.info(
      { event: "oidc_user_created", provider: settings.id, user: user.id },
      "user created on first sign-in",
    );
  }
  if (user.status !== "active") return refuse({ status: 403, reason: "account_inactive" }, { user: user.id });
  const linked = await linkFederation(deps, provider, signIn);
  if (linked !== "ok") return refuse({ status: 403, reason: linked }, { user: user.id });
  await stores.federation.syncGroups(user.id, settings.id, signIn.groups);

  // A sign-in never inherits the browser's older session (fixation).
  const previous = readSessionToken(c.req.header("cookie"));
  if (previous !== undefined) await stores.sessions.delete(sessionIdFromToken(previous));
  const { token, session } = await stores.sessions.create(
    {
      userId: user.id,
      acr: signIn.acr || IDP_DEFAULT_ACR,
      amr: signIn.amr,
      // auth_time in the future (a fast IdP clock) counts as now.
      authAt: Math.min(signIn.authAtMs ?? now, now),
      stepUpAt: 0,
      ip: who.ip,
      country: who.country,
      uaHash: who.uaHash,
      federation: { provider: settings.id, subject: signIn.subject, sid: signIn.sid },
    },
    now,
    config.session.absolute_timeout,
  );
  deps.metrics.stepUpResults.inc({ result: "signin_success" });
  deps.logger.info(
    {
      event: "oidc_signin",
      provider: settings.id,
      user: user.id,
      session: session.id,
      ip: who.ip,
      acr: session.acr,
    },
    "signed in through the identity provider",
  );
  return redirectWithSession(deps, token, flow.rd);
}

async function finishStepUp(
  deps: PortalDeps,
  _c: PortalContext,
  provider: OidcProvider,
  flow: FlowRecord,
  signIn: FederatedSignIn,
  who: Client,
  refuse: Refuse,
): Promise<Response> {
  const { stores, config } = deps;
  const now = deps.clock();
  const session = flow.sessionId === undefined ? undefined : await stores.sessions.get(flow.sessionId);
  if (session === undefined) return refuse({ status: 403, reason: "no_session" });
  // The step-up must come from the IdP account already linked to this user (by an earlier sign-in
  // through this provider): a step-up never creates a link, so a stolen session cookie cannot be
  // upgraded with some other IdP account that happens to carry the same user name.
  const linkedUser = await stores.federation.userOfSubject(provider.settings.id, signIn.subject);
  if (session.userId !== signIn.userId || linkedUser !== session.userId) {
    return refuse(
      { status: 403, reason: "different_user" },
      { user: session.userId, idp_user: signIn.userId, linked: linkedUser !== undefined },
    );
  }
  const answered = answersStepUp(
    signIn,
    { acrValues: flow.acrValues, startedAt: flow.startedAt },
    config.oidc.clock_skew,
  );
  if (!answered.ok) {
    deps.metrics.stepUpResults.inc({ result: "failure" });
    return refuse({ status: 403, reason: answered.reason }, { user: session.userId, acr: signIn.acr });
  }
  const user = await stores.users.get(session.userId);
  if (user === undefined || user.status !== "active")
    return refuse({ status: 403, reason: "account_inactive" });
  if (signIn.sid !== "") {
    await stores.federation.rememberSid(
      provider.settings.id,
      signIn.sid,
      user.id,
      config.session.absolute_timeout,
    );
  }
  const rotated = await stores.sessions.rotate(
    session.id,
    {
      acr: signIn.acr,
      amr: signIn.amr,
      stepUpAt: Math.min(signIn.authAtMs ?? now, now),
      ip: who.ip,
      country: who.country,
      uaHash: who.uaHash,
      federation: { provider: provider.settings.id, subject: signIn.subject, sid: signIn.sid },
    },
    now,
    config.session.absolute_timeout,
  );
  if (rotated === undefined) return refuse({ status: 403, reason: "no_session" });
  deps.metrics.stepUpResults.inc({ result: "success" });
  deps.logger.info(
    {
      event: "oidc_stepup",
      provider: provider.settings.id,
      user: user.id,
      session: rotated.session.id,
      acr: signIn.acr,
    },
    "stepped up through the identity provider",
  );
  return redirectWithSession(deps, rotated.token, flow.rd);
}
