/** The types every route group shares: Hono's environment and the dependencies the app is built from. */
import type { OidcProviders } from "../oidc/providers.ts";
import type { ForwardAuthDeps } from "./forward-auth/handler.ts";

/** Hono's environment: the client's socket address arrives as the `peer` binding (see server.ts). */
export type AppEnv = { Bindings: { peer: string } };

/** Everything the routes need; the decision path's dependencies are the widest set. */
export type AppDeps = Omit<ForwardAuthDeps, "random"> & {
  /** The configured OIDC identity providers; unset = passkey sign-in only. */
  oidc?: OidcProviders | undefined;
};
