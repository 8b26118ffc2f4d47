/** @jsxImportSource hono/jsx */
/**
 * The HTML pages a browser sees when something is refused or fails: 400, 403, 404, 429, 500,
 * 503. API clients keep their JSON answers: callers pick HTML only when wantsHtml(accept).
 *
 * renderErrorPage is synchronous (no async components) so /auth's fast path can use it.
 */
import type { Child, FC } from "hono/jsx";
import type { Branding } from "./branding.ts";
import { explainDenial } from "./reason-text.ts";
import { Shell } from "./shell.tsx";

/** A browser navigation asks for HTML; fetch() and API clients ask for JSON or anything. */
export function wantsHtml(accept: string | null | undefined): boolean {
  return (accept ?? "").includes("text/html");
}

export function newPageNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64");
}

/** The CSP of an error page: only this response's nonce for styles, images from the portal. */
export function errorPageCsp(nonce: string, portalOrigin: string): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `img-src 'self'${portalOrigin ? ` ${portalOrigin}` : ""}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

export interface ErrorPageContent {
  title: string;
  message: string;
  /** The reason code, shown small for support requests. */
  reference?: string | undefined;
  children?: Child;
}

interface ErrorPageProps extends ErrorPageContent {
  nonce: string;
  branding: Branding;
  portalOrigin: string;
  inlineStyle: boolean;
}

const ErrorPage: FC<ErrorPageProps> = (props) => (
  <Shell
    title={props.title}
    nonce={props.nonce}
    branding={props.branding}
    portalOrigin={props.portalOrigin}
    inlineStyle={props.inlineStyle}
  >
    <h1>{props.title}</h1>
    <p class="lead">{props.message}</p>
    {props.children}
    {props.reference ? (
      <p class="help">
        Reference for support: <code>{props.reference}</code>
      </p>
    ) : null}
  </Shell>
);

export interface ErrorPageOptions {
  branding: Branding;
  /** "" when the page is served on the portal host itself; the portal origin when relayed elsewhere. */
  portalOrigin: string;
  headers?: Record<string, string>;
}

export function renderErrorPage(
  status: number,
  content: ErrorPageContent,
  options: ErrorPageOptions,
): Response {
  const nonce = newPageNonce();
  const inlineStyle = options.portalOrigin !== "";
  const html = String(
    ErrorPage({
      ...content,
      nonce,
      branding: options.branding,
      portalOrigin: options.portalOrigin,
      inlineStyle,
    }),
  );
  return new Response(`<!doctype html>${html}`, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy": errorPageCsp(nonce, options.portalOrigin),
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "same-origin",
      ...options.headers,
    },
  });
}

/** The 403 content: why in words, who is signed in, how to switch account and how to ask for access. */
export function deniedContent(
  reason: string,
  userId: string | undefined,
  branding: Branding,
  portalOrigin: string,
): ErrorPageContent {
  return {
    title: "Access denied",
    message: explainDenial(reason),
    reference: reason,
    children: (
      <>
        {userId !== undefined ? (
          <p>
            You are signed in as <strong>{userId}</strong>.{" "}
            <a href={`${portalOrigin}/`}>Sign out or use another account</a>.
          </p>
        ) : null}
        {branding.accessHelp ? <p class="notice">{branding.accessHelp}</p> : null}
      </>
    ),
  };
}
