/**
 * The shared look's routes: the stylesheet and the optional logo (content-hashed, cached for
 * ever), and the per-request branding scope every portal-host page reads (see branding.ts).
 */
import type { Hono } from "hono";
import type { Config } from "../../config/load.ts";
import type { AppEnv } from "../app-env.ts";
import { brandingOf, withBranding } from "./branding.ts";
import { loadLogo } from "./logo.ts";
import { STYLESHEET, STYLESHEET_PATH } from "./stylesheet.ts";

const IMMUTABLE = "public, max-age=31536000, immutable";

export function registerUiRoutes(app: Hono<AppEnv>, deps: { config: Pick<Config, "ui"> }): void {
  const branding = brandingOf(deps.config);
  app.use("*", (_c, next) => withBranding(branding, next));

  app.get(STYLESHEET_PATH, (c) =>
    c.body(STYLESHEET, 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": IMMUTABLE,
      "x-content-type-options": "nosniff",
      "cross-origin-resource-policy": "same-origin",
    }),
  );

  const logoPath = deps.config.ui.logo_path;
  if (logoPath !== undefined) {
    const logo = loadLogo(logoPath);
    app.get(logo.path, (c) =>
      c.body(logo.body, 200, {
        "content-type": logo.contentType,
        "cache-control": IMMUTABLE,
        "x-content-type-options": "nosniff",
        // Relayed 403 pages on application hosts show it too; a logo is public anyway.
        "cross-origin-resource-policy": "cross-origin",
        // An SVG opened directly must not run script.
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      }),
    );
  }
}
