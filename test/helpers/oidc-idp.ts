/**
 * startTestIdp: a real OpenID Provider (oidc-provider, panva's) in its own process on a free
 * loopback port, with the clients and users a test names. See oidc-idp-server.ts for what it
 * serves: a login page that lets the user claim acr "pwd" or "mfa", a consent page, the groups
 * claim (scopes profile and groups), back-channel logout, and test hooks to play a misbehaving IdP.
 *
 *   const idp = await startTestIdp({ clients: [testClient(redirectUri)], users: [alice] });
 *   … idp.issuer, idp.signInWith(page, alice) …
 *   await idp.stop();
 */
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import type { Page } from "playwright-core";
import { freeLoopbackPort } from "./free-port.ts";
import type { IdpClientSpec, IdpUserSpec, IdTokenTamper } from "./oidc-idp-server.ts";

export type { IdpClientSpec, IdpUserSpec, IdTokenTamper };

const SERVER_SCRIPT = resolve(import.meta.dir, "oidc-idp-server.ts");

export interface TestIdp {
  /** The issuer URL (http://127.0.0.1:<port>), also the discovery base. */
  issuer: string;
  port: number;
  /** The provider's signing key (private JWK): lets a test forge what only the IdP could sign. */
  signingKey: JWK;
  /** Alters the next ID token the token endpoint returns (once). */
  tamperNextIdToken(tamper: IdTokenTamper): Promise<void>;
  /** The last back-channel logout token the provider sent to a client (undefined before any). */
  lastLogoutToken(): Promise<string | undefined>;
  /** On the IdP's login page (already open in `page`): signs in as `user`, claiming `acr`, and allows consent if asked. */
  signInWith(page: Page, user: IdpUserSpec, acr?: "pwd" | "mfa"): Promise<void>;
  /** Everything the process printed. */
  output(): string;
  stop(): Promise<void>;
}

export interface TestIdpOptions {
  clients: IdpClientSpec[];
  users: IdpUserSpec[];
  /** A fixed port (e.g. to restart the "same" IdP); a free one by default. */
  port?: number;
  /** Reuse the signing key of an earlier IdP (same JWKS after a restart). */
  signingKey?: JWK;
  /** PKCE required of every client (default true; a relying party without PKCE needs false). */
  requirePkce?: boolean;
  timeoutMs?: number;
}

/**
 * What a browser would post on an IdP page whose HTML is `html`: the login form filled in as
 * `user` claiming `acr`, or the consent form's "Allow"; undefined on any other page. The same
 * steps as `signInWith`, for a client without a renderer (test/helpers/cookie-agent.ts).
 */
export function idpFormAnswer(
  html: string,
  user: IdpUserSpec,
  acr: "pwd" | "mfa" = "pwd",
): { action: string; body: URLSearchParams } | undefined {
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1]?.replaceAll("&amp;", "&");
  if (action === undefined) return undefined;
  if (html.includes('id="idp-login"')) {
    return { action, body: new URLSearchParams({ username: user.username, password: user.password, acr }) };
  }
  if (html.includes('id="idp-allow"')) return { action, body: new URLSearchParams() };
  return undefined;
}

/** A confidential client with back-channel logout, as Vigil registers itself at an IdP. */
export function testClient(options: {
  clientId?: string;
  clientSecret?: string;
  redirectUri: string;
  backchannelLogoutUri?: string;
  postLogoutRedirectUri?: string;
}): IdpClientSpec {
  return {
    client_id: options.clientId ?? "vigil",
    client_secret: options.clientSecret ?? "vigil-test-secret-0123456789abcdef",
    redirect_uris: [options.redirectUri],
    ...(options.backchannelLogoutUri ? { backchannel_logout_uri: options.backchannelLogoutUri } : {}),
    ...(options.postLogoutRedirectUri ? { post_logout_redirect_uris: [options.postLogoutRedirectUri] } : {}),
  };
}

export async function startTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  const port = options.port ?? (await freeLoopbackPort());
  const issuer = `http://127.0.0.1:${port}`;
  const signingKey =
    options.signingKey ??
    (await (async () => {
      const { privateKey } = await generateKeyPair("RS256", { extractable: true });
      return {
        ...(await exportJWK(privateKey)),
        kid: `test-${crypto.randomUUID()}`,
        alg: "RS256",
        use: "sig",
      };
    })());
  const child: Subprocess = Bun.spawn([process.execPath, SERVER_SCRIPT], {
    env: {
      ...process.env,
      OIDC_IDP_SPEC: JSON.stringify({
        port,
        issuer,
        signingKey,
        clients: options.clients,
        users: options.users,
        requirePkce: options.requirePkce ?? true,
      }),
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const chunks: string[] = [];
  for (const stream of [child.stdout, child.stderr] as ReadableStream<Uint8Array>[]) {
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) chunks.push(decoder.decode(chunk, { stream: true }));
    })();
  }
  const output = () => chunks.join("");
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await child.exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`test IdP exited with ${child.exitCode}: ${output()}`);
    const ready = await fetch(`${issuer}/.well-known/openid-configuration`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`test IdP on ${port} did not start: ${output()}`);
    }
    await Bun.sleep(50);
  }

  return {
    issuer,
    port,
    signingKey,
    async tamperNextIdToken(tamper) {
      const response = await fetch(`${issuer}/__test/tamper`, {
        method: "POST",
        body: JSON.stringify(tamper),
      });
      if (!response.ok) throw new Error(`tamper refused: ${response.status}`);
    },
    async lastLogoutToken() {
      const response = await fetch(`${issuer}/__test/last-logout-token`);
      const body = (await response.json()) as { logout_token: string | null };
      return body.logout_token ?? undefined;
    },
    async signInWith(page, user, acr = "pwd") {
      await page.locator("input[name=username]").fill(user.username);
      await page.locator("input[name=password]").fill(user.password);
      await page.locator("select[name=acr]").selectOption(acr);
      await page.locator("#idp-login").click();
      const allow = page.locator("#idp-allow");
      // A first sign-in at this IdP asks for consent; later ones go straight back to Vigil.
      await page.waitForLoadState("domcontentloaded");
      if (await allow.isVisible().catch(() => false)) await allow.click();
    },
    output,
    stop,
  };
}
