/**
 * What every page says about whose service this is: the product name, the optional configured
 * title and logo, and the "ask for access" text of the 403 page (config section `ui`).
 *
 * Portal-host pages read it from the request's scope (withBranding, set once per request by
 * registerUiRoutes), so page components need no extra parameter.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Config } from "../../config/load.ts";
import { loadLogo } from "./logo.ts";

export const PRODUCT_NAME = "Vigil";

export interface Branding {
  product: string;
  title: string | undefined;
  /** Path of the logo on the portal host, when one is configured. */
  logoPath: string | undefined;
  accessHelp: string | undefined;
}

export const DEFAULT_BRANDING: Branding = {
  product: PRODUCT_NAME,
  title: undefined,
  logoPath: undefined,
  accessHelp: undefined,
};

export function brandingOf(config: Pick<Config, "ui">): Branding {
  return {
    product: PRODUCT_NAME,
    title: config.ui.title,
    logoPath: config.ui.logo_path === undefined ? undefined : loadLogo(config.ui.logo_path).path,
    accessHelp: config.ui.access_help,
  };
}

const scope = new AsyncLocalStorage<Branding>();

export function withBranding<T>(branding: Branding, run: () => T): T {
  return scope.run(branding, run);
}

/** The branding of the request being answered (the default outside one). */
export function currentBranding(): Branding {
  return scope.getStore() ?? DEFAULT_BRANDING;
}
