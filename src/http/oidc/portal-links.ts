/** What the passkey portal's pages offer of the OIDC providers: step-up buttons, IdP logout. */
import * as client from "openid-client";
import type { Session } from "../../core/types.ts";
import type { PortalDeps } from "../portal/context.ts";
import type { ProviderButton } from "../portal/pages.tsx";

/**
 * The provider a session may step up through: the one it signed in with, when that provider has
 * stepup_acr_values (the step-up must come from the same, already linked IdP account).
 */
export function stepUpProviders(deps: PortalDeps, session: Session): ProviderButton[] {
  const providers = deps.config.oidc.providers.filter(
    (p) => p.stepup_acr_values.length > 0 && session.federation?.provider === p.id,
  );
  return deps.oidc ? providers.map((p) => ({ id: p.id, name: p.name })) : [];
}

/** The IdP's end_session_endpoint for a session signed in through it (RP-initiated logout), if any. */
export function idpEndSessionUrl(
  deps: PortalDeps,
  session: Session,
): { url: string; provider: string } | undefined {
  const federation = session.federation;
  if (federation === undefined || deps.oidc === undefined) return undefined;
  const provider = deps.oidc.get(federation.provider);
  const configuration = provider?.configuration();
  if (provider === undefined || configuration === undefined || !provider.settings.end_session)
    return undefined;
  if (configuration.serverMetadata().end_session_endpoint === undefined) return undefined;
  const url = client.buildEndSessionUrl(configuration, {
    client_id: provider.settings.client_id,
    post_logout_redirect_uri: `${deps.config.publicOrigin}/login`,
  }).href;
  return { url, provider: provider.settings.name };
}
