/** @jsxImportSource hono/jsx */
/**
 * The frame of every HTML page Vigil serves: head (CSP-nonced stylesheet and optional script),
 * a header with the product name, configured title and logo, and the page's main content.
 */
import type { Child, FC } from "hono/jsx";
import type { Branding } from "./branding.ts";
import { STYLESHEET, STYLESHEET_PATH } from "./stylesheet.ts";

export interface ShellProps {
  title: string;
  nonce: string;
  branding: Branding;
  /** Where links to the portal point: "" on the portal host, its origin on an application's host. */
  portalOrigin?: string;
  /** Embed the stylesheet (pages relayed on an application's host) instead of linking it. */
  inlineStyle?: boolean;
  /** Path of a page script, when the page runs one. */
  script?: string | undefined;
  /** Navigation links shown in the header (e.g. Account, Console). */
  nav?: Child;
  wide?: boolean;
  children?: Child;
}

export const Shell: FC<ShellProps> = ({
  title,
  nonce,
  branding,
  portalOrigin = "",
  inlineStyle = false,
  script,
  nav,
  wide = false,
  children,
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width,initial-scale=1" />
      {/* Same-origin posts carry their Origin (the CSRF check); other origins learn nothing. */}
      <meta name="referrer" content="same-origin" />
      <title>{`${title} · ${branding.title ?? branding.product}`}</title>
      {inlineStyle ? (
        <style nonce={nonce} dangerouslySetInnerHTML={{ __html: STYLESHEET }} />
      ) : (
        <link rel="stylesheet" href={STYLESHEET_PATH} nonce={nonce} />
      )}
      {script ? <script type="module" src={script} nonce={nonce} /> : null}
    </head>
    <body>
      <header class="brand">
        {branding.logoPath ? <img src={`${portalOrigin}${branding.logoPath}`} alt="" /> : null}
        <span class="product">{branding.product}</span>
        {branding.title ? <span class="muted">{branding.title}</span> : null}
        {nav ? <nav aria-label="Main">{nav}</nav> : null}
      </header>
      <main class={wide ? "wide" : undefined}>{children}</main>
    </body>
  </html>
);
