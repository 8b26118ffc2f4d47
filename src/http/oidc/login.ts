/**
 * GET /oidc/<id>/login?rd=<url>[&stepup=1]: starts a sign-in (or, with stepup=1, a step-up of
 * the current session) at the provider — Authorization Code with PKCE S256, state and nonce —
 * and sends the browser to the IdP's authorization endpoint.
 */
import * as client from "openid-client";
import { flowCookie, newFlowId, saveFlow } from "../../oidc/flow.ts";
import type { OidcProvider } from "../../oidc/providers.ts";
import {
  clientOf,
  currentSession,
  type PortalContext,
  type PortalDeps,
  returnUrl,
} from "../portal/context.ts";
import type { Regulation } from "../portal/regulation.ts";
import { problem } from "./answer.ts";

export const callbackUrl = (deps: PortalDeps, providerId: string): string =>
  `${deps.config.publicOrigin}/oidc/${providerId}/callback`;

export async function startOidcFlow(
  deps: PortalDeps,
  regulation: Regulation,
  c: PortalContext,
  provider: OidcProvider,
): Promise<Response> {
  const configuration = provider.configuration();
  if (configuration === undefined) {
    // The registry already warns on every failed discovery; per request this is detail only.
    deps.logger.debug(
      { event: "oidc_unavailable", provider: provider.settings.id },
      "oidc provider not discovered",
    );
    return problem(c, 503, "provider_unavailable", { "retry-after": "30" });
  }
  const who = clientOf(c, deps);
  if (who === undefined) return problem(c, 400, "bad_client_address");
  const now = deps.clock();
  // Every start stores a flow record: bounded per client address like passkey ceremony starts.
  const limited = await regulation.countStart(who.ip, now);
  if (limited !== undefined) {
    return problem(c, 429, "too_many_requests", { "retry-after": String(limited.retryAfterSec) });
  }
  const rd = returnUrl(deps, c.req.query("rd"));
  const stepUp = c.req.query("stepup") === "1";
  const { settings } = provider;
  let session: Awaited<ReturnType<typeof currentSession>>;
  if (stepUp) {
    if (settings.stepup_acr_values.length === 0) return problem(c, 400, "stepup_not_offered");
    session = await currentSession(c, deps);
    if (session === undefined) return c.redirect(`/login?rd=${encodeURIComponent(rd)}`, 302);
    // A session from one IdP steps up at that IdP, not at another one.
    if (session.federation !== undefined && session.federation.provider !== settings.id) {
      return problem(c, 400, "stepup_not_offered");
    }
  }

  const state = client.randomState();
  const nonce = client.randomNonce();
  const pkceVerifier = client.randomPKCECodeVerifier();
  const acrValues = stepUp ? settings.stepup_acr_values : [];
  const flowId = newFlowId();
  await saveFlow(
    deps.stores.oneTime,
    flowId,
    {
      provider: settings.id,
      purpose: stepUp ? "stepup" : "signin",
      state,
      nonce,
      pkceVerifier,
      rd,
      startedAt: now,
      ...(session ? { sessionId: session.id, userId: session.userId } : {}),
      acrValues,
    },
    deps.config.oidc.flow_ttl,
  );
  const parameters: Record<string, string> = {
    redirect_uri: callbackUrl(deps, settings.id),
    scope: settings.scopes.join(" "),
    response_type: "code",
    code_challenge: await client.calculatePKCECodeChallenge(pkceVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
  };
  if (stepUp) {
    // A step-up asks for a new authentication now (RFC 9470: max_age 0 and prompt=login).
    parameters.max_age = "0";
    parameters.prompt = "login";
    parameters.acr_values = acrValues.join(" ");
  }
  const location = client.buildAuthorizationUrl(configuration, parameters).href;
  return new Response(null, {
    status: 302,
    headers: {
      location,
      "set-cookie": flowCookie(flowId, deps.config.oidc.flow_ttl, deps.config),
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
    },
  });
}
