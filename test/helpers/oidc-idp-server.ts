/**
 * A real OpenID Provider (panva's oidc-provider) as its own process, for tests and benchmarks.
 * Started by oidc-idp.ts with its whole setup in the OIDC_IDP_SPEC environment variable (JSON).
 *
 * Beside the provider's own endpoints it serves:
 * - /interaction/:uid — a login page (user name, password, and the authentication level to claim:
 *   "pwd" or "mfa", so a test can satisfy or fall short of the acr a relying party asks for) and
 *   a consent page;
 * - /__test/* — hooks a test uses to play a misbehaving IdP: tamper with the next ID token the
 *   token endpoint returns (claims, header, signature), and read the last back-channel logout
 *   token the provider sent.
 */

import { createPrivateKey, createPublicKey } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { decodeJwt, decodeProtectedHeader, importJWK, type JWK, SignJWT } from "jose";
import Provider, { type Configuration } from "oidc-provider";

export interface IdpUserSpec {
  sub: string;
  username: string;
  password: string;
  email?: string;
  name?: string;
  groups?: string[];
}

export interface IdpClientSpec {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  /** How the client authenticates at the token endpoint; client_secret_basic by default. */
  token_endpoint_auth_method?: "client_secret_basic" | "client_secret_post";
}

export interface IdpSpec {
  port: number;
  issuer: string;
  signingKey: JWK;
  clients: IdpClientSpec[];
  users: IdpUserSpec[];
  /** PKCE required of every client (default true). */
  requirePkce?: boolean;
}

/** How the next ID token leaving the token endpoint is altered. */
export interface IdTokenTamper {
  /** Claims to set (null deletes the claim). */
  claims?: Record<string, unknown>;
  /** "rs256" re-signs with the IdP's own key; "none" strips the signature; "hs256-public-key" signs with the public key as an HMAC secret; "foreign-key" signs with a key the IdP never published. */
  sign?: "rs256" | "none" | "hs256-public-key" | "foreign-key";
}

const spec = JSON.parse(process.env.OIDC_IDP_SPEC ?? "null") as IdpSpec | null;
if (spec === null) throw new Error("OIDC_IDP_SPEC is not set");

const usersBySub = new Map(spec.users.map((user) => [user.sub, user]));
const usersByName = new Map(spec.users.map((user) => [user.username, user]));

const configuration: Configuration = {
  clients: spec.clients.map((client) => ({
    ...client,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: client.token_endpoint_auth_method ?? "client_secret_basic",
    backchannel_logout_session_required: client.backchannel_logout_uri !== undefined,
  })),
  jwks: { keys: [spec.signingKey] },
  cookies: { keys: ["test-idp-cookie-key-0123456789abcdef"] },
  acrValues: ["pwd", "mfa"],
  claims: {
    openid: ["sub"],
    profile: ["name", "preferred_username", "groups"],
    email: ["email", "email_verified"],
    groups: ["groups"],
  },
  scopes: ["openid", "profile", "email", "groups", "offline_access"],
  // Scope claims go into the ID token itself, as Keycloak, authentik and Pocket ID do.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => spec.requirePkce !== false },
  async findAccount(_ctx, sub) {
    const user = usersBySub.get(sub);
    if (user === undefined) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: user.name ?? user.username,
          preferred_username: user.username,
          email: user.email,
          email_verified: user.email !== undefined,
          groups: user.groups ?? [],
        };
      },
    };
  },
  // The relying party under test listens on loopback: let back-channel logout reach it (the
  // provider refuses special-use addresses by default, an SSRF guard for production).
  fetch: async (url, options) => {
    const { dispatcher: _ignored, ...rest } = options as RequestInit & { dispatcher?: unknown };
    const body = rest.body;
    if (body instanceof URLSearchParams && body.has("logout_token")) {
      lastLogoutToken = body.get("logout_token") ?? undefined;
    }
    return globalThis.fetch(url, rest);
  },
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = page(
      "IdP error",
      `<h1>IdP error</h1><pre id="error">${htmlEscape(JSON.stringify(out))}</pre>`,
    );
  },
};

let pendingTamper: IdTokenTamper | undefined;
let lastLogoutToken: string | undefined;

const provider = new Provider(spec.issuer, configuration);
provider.on("server_error", (_ctx, error) => console.error("idp server_error", error));

// The token endpoint's answer passes through here: a pending tamper rewrites its ID token once.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== "/token" || pendingTamper === undefined) return;
  const body = ctx.body as { id_token?: string } | undefined;
  if (body?.id_token === undefined) return;
  const tamper = pendingTamper;
  pendingTamper = undefined;
  ctx.body = { ...body, id_token: await tamperedIdToken(body.id_token, tamper) };
});

async function tamperedIdToken(token: string, tamper: IdTokenTamper): Promise<string> {
  const payload: Record<string, unknown> = { ...decodeJwt(token) };
  for (const [name, value] of Object.entries(tamper.claims ?? {})) {
    if (value === null) delete payload[name];
    else payload[name] = value;
  }
  const { kid } = decodeProtectedHeader(token);
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  switch (tamper.sign ?? "rs256") {
    case "none":
      return `${b64({ alg: "none" })}.${b64(payload)}.`;
    case "hs256-public-key": {
      const publicPem = createPublicKey(createPrivateKey({ key: spec!.signingKey, format: "jwk" }))
        .export({ type: "spki", format: "pem" })
        .toString();
      return new SignJWT(payload)
        .setProtectedHeader({ alg: "HS256", kid })
        .sign(new TextEncoder().encode(publicPem));
    }
    case "foreign-key": {
      const { generateKeyPair } = await import("jose");
      const foreign = await generateKeyPair("RS256");
      return new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid }).sign(foreign.privateKey);
    }
    default:
      return new SignJWT(payload)
        .setProtectedHeader({ alg: "RS256", kid })
        .sign(await importJWK(spec!.signingKey, "RS256"));
  }
}

function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${htmlEscape(title)}</title></head><body>${body}</body></html>`;
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function loginPage(uid: string, asked: string | undefined, error = ""): string {
  return page(
    "IdP sign-in",
    `<h1>Sign in to the test IdP</h1>
<p id="asked">acr_values asked: ${htmlEscape(asked ?? "(none)")}</p>
${error ? `<p id="error">${htmlEscape(error)}</p>` : ""}
<form method="post" action="/interaction/${htmlEscape(uid)}/login">
  <label>User name <input name="username" autocomplete="username" autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <label>Level <select name="acr"><option value="pwd">password only (pwd)</option><option value="mfa">with a second factor (mfa)</option></select></label>
  <button type="submit" id="idp-login">Sign in</button>
</form>`,
  );
}

function consentPage(uid: string, clientId: string): string {
  return page(
    "IdP consent",
    `<h1>Allow ${htmlEscape(clientId)} to know who you are?</h1>
<form method="post" action="/interaction/${htmlEscape(uid)}/confirm">
  <button type="submit" id="idp-allow">Allow</button>
</form>`,
  );
}

async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const [, , uid, step] = path.split("/");
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page("IdP error", "<p>interaction mismatch</p>"));
  const asked = typeof details.params.acr_values === "string" ? details.params.acr_values : undefined;

  if (req.method === "GET") {
    if (details.prompt.name === "login") return send(res, 200, loginPage(uid, asked));
    return send(res, 200, consentPage(uid, String(details.params.client_id)));
  }
  if (step === "login") {
    const form = new URLSearchParams(await readBody(req));
    const user = usersByName.get(form.get("username") ?? "");
    if (user === undefined || user.password !== form.get("password")) {
      return send(res, 200, loginPage(uid, asked, "Wrong user name or password."));
    }
    const acr = form.get("acr") === "mfa" ? "mfa" : "pwd";
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.sub, acr, amr: acr === "mfa" ? ["pwd", "otp"] : ["pwd"] } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (step === "confirm") {
    const accountId = details.session?.accountId;
    if (accountId === undefined) return send(res, 400, page("IdP error", "<p>no session</p>"));
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    if (grant === undefined) return send(res, 400, page("IdP error", "<p>no grant</p>"));
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  send(res, 404, page("IdP error", "<p>unknown step</p>"));
}

async function testHook(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  res.setHeader("content-type", "application/json");
  if (path === "/__test/tamper" && req.method === "POST") {
    pendingTamper = JSON.parse(await readBody(req)) as IdTokenTamper;
    res.end("{}");
    return;
  }
  if (path === "/__test/last-logout-token") {
    res.end(JSON.stringify({ logout_token: lastLogoutToken ?? null }));
    return;
  }
  res.statusCode = 404;
  res.end("{}");
}

const callback = provider.callback();
const server = createServer((req, res) => {
  const path = new URL(req.url ?? "/", spec.issuer).pathname;
  const handle = path.startsWith("/interaction/")
    ? interaction(req, res, path)
    : path.startsWith("/__test/")
      ? testHook(req, res, path)
      : Promise.resolve(callback(req, res));
  handle.catch((error: Error) => {
    console.error("idp error", error);
    if (!res.headersSent) send(res, 500, page("IdP error", `<p>${htmlEscape(error.message)}</p>`));
  });
});
server.listen(spec.port, "127.0.0.1", () => console.log(`idp listening ${spec.issuer}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
