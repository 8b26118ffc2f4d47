/**
 * The OIDC test stack: a real IdP (oidc-provider, its own process), two Vigil replicas sharing
 * one real Redis, and a protected app. Replica A is the portal the browser uses (its callback and
 * back-channel logout URLs are registered at the IdP); replica B answers /auth from the same store.
 */
import { Writable } from "node:stream";
import { createLogger } from "../../src/observe/logger.ts";
import { createOidcProviders, type OidcProviders } from "../../src/oidc/providers.ts";
import { freeLoopbackPort } from "../helpers/free-port.ts";
import { type IdpUserSpec, startTestIdp, type TestIdp, testClient } from "../helpers/oidc-idp.ts";
import { startRedis, uniquePrefix } from "../helpers/redis-server.ts";
import { startVigil, type TestVigil } from "../helpers/vigil.ts";

export const COOKIE_DOMAIN = "vigil.localhost";
export const APP_HOST = "app.vigil.localhost";
export const PROVIDER_ID = "corp";
export const CLIENT_SECRET = "vigil-test-secret-0123456789abcdef";
const SECRET_ENV = "VIGIL_TEST_OIDC_CLIENT_SECRET";

export const OIDC_POLICY = `
risk: { stepup_at: 40, deny_at: 80 }
rules:
  - { name: admin, hosts: ["${APP_HOST}"], paths: ["/admin/**"], action: stepup, max_age: 5m }
  - { name: sso-only, hosts: ["${APP_HOST}"], paths: ["/sso-only/**"], action: stepup, max_age: 5m, via: [idp] }
  - { name: app, hosts: ["*.${COOKIE_DOMAIN}"], action: authenticated }
default: deny
`;

export const ALICE: IdpUserSpec = {
  sub: "idp-sub-alice",
  username: "alice",
  password: "alice-password",
  email: "alice@example.com",
  name: "Alice",
  groups: ["staff", "admins"],
};
export const MALLORY: IdpUserSpec = {
  sub: "idp-sub-mallory",
  username: "mallory",
  password: "mallory-password",
  email: "mallory@evil.example",
  groups: ["contractors"],
};

/** An IdP account that only the account-linking test signs in with: never linked before it. */
export const TRENT: IdpUserSpec = {
  sub: "idp-sub-trent",
  username: "trent",
  password: "trent-password",
  email: "trent@example.com",
  groups: ["contractors"],
};

/** An IdP account whose Vigil user has only ever signed in with a passkey. */
export const ERIN: IdpUserSpec = {
  sub: "idp-sub-erin",
  username: "erin",
  password: "erin-password",
  email: "erin@example.com",
  groups: ["staff"],
};

export interface OidcStack {
  idp: TestIdp;
  a: TestVigil;
  b: TestVigil;
  /** The portal's public origin (replica A), as the browser sees it. */
  origin: string;
  redisUrl: string;
  logLines: string[];
  /** Replaces the IdP by a new process (same port and key). */
  restartIdp(): Promise<void>;
  close(): Promise<void>;
}

/** OidcProviders that delegates to a set built once the IdP is up (its port names the issuer). */
function lateProviders(): OidcProviders & { set(inner: OidcProviders): void } {
  let inner: OidcProviders | undefined;
  return {
    set: (value) => {
      inner = value;
    },
    get: (id) => inner?.get(id),
    list: () => inner?.list() ?? [],
    ready: Promise.resolve(),
    close: () => inner?.close(),
  };
}

export interface OidcStackOptions {
  /** Overrides of the "corp" provider's settings. */
  provider?: Record<string, unknown>;
  /** More providers at the same IdP, each its own client there (client_id "vigil-<id>"). */
  extraProviders?: Array<Record<string, unknown> & { id: string }>;
  users?: IdpUserSpec[];
  /** Vigil config merged over the stack's. */
  config?: Record<string, unknown>;
  /** A redis-server of the stack's own (never the shared REDIS_URL): for counting commands. */
  ownRedis?: boolean;
}

export async function startOidcStack(options: OidcStackOptions = {}): Promise<OidcStack> {
  process.env[SECRET_ENV] = CLIENT_SECRET;
  const idpPort = await freeLoopbackPort();
  const issuer = `http://127.0.0.1:${idpPort}`;
  const redis = await startRedis({ own: options.ownRedis === true });
  const prefix = uniquePrefix();
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const provider = {
    id: PROVIDER_ID,
    name: "Corp IdP",
    issuer,
    client_id: "vigil",
    client_secret_env: SECRET_ENV,
    scopes: ["openid", "profile", "email"],
    provisioning: "jit",
    stepup_acr_values: ["mfa"],
    ...options.provider,
  };
  const extras = (options.extraProviders ?? []).map((extra) => ({
    ...provider,
    name: extra.id,
    client_id: `vigil-${extra.id}`,
    ...extra,
  }));
  const replica = async (oidc: OidcProviders) =>
    startVigil({
      config: (port) => ({
        public_url: `http://auth.${COOKIE_DOMAIN}:${port}`,
        cookie: { domain: COOKIE_DOMAIN },
        oidc: { providers: [provider, ...extras] },
        ...options.config,
      }),
      policyText: OIDC_POLICY,
      store: { redisUrl: redis.url, prefix },
      // The IdP stamps real times on its tokens: the replicas keep real time too.
      deps: { geo: () => undefined, clock: () => Date.now(), logger: createLogger("debug", sink), oidc },
    });
  const lateA = lateProviders();
  const lateB = lateProviders();
  const a = await replica(lateA);
  const b = await replica(lateB);
  const origin = a.config.publicOrigin;
  const idpOptions = {
    port: idpPort,
    clients: [provider, ...extras].map((p) =>
      testClient({
        clientId: p.client_id,
        clientSecret: CLIENT_SECRET,
        redirectUri: `${origin}/oidc/${p.id}/callback`,
        backchannelLogoutUri: `${a.url}/oidc/${p.id}/backchannel-logout`,
        postLogoutRedirectUri: `${origin}/login`,
      }),
    ),
    users: options.users ?? [ALICE, MALLORY, ERIN, TRENT],
  };
  let idp = await startTestIdp(idpOptions);
  const logger = createLogger("silent");
  const providersA = createOidcProviders(a.config, logger);
  const providersB = createOidcProviders(b.config, logger);
  await Promise.all([providersA.ready, providersB.ready]);
  lateA.set(providersA);
  lateB.set(providersB);
  return {
    get idp() {
      return idp;
    },
    a,
    b,
    origin,
    redisUrl: redis.url,
    logLines,
    async restartIdp() {
      await idp.stop();
      idp = await startTestIdp({ ...idpOptions, signingKey: idp.signingKey });
    },
    async close() {
      // Test workers keep process.env from one file to the next: leave none of this stack's.
      delete process.env[SECRET_ENV];
      providersA.close();
      providersB.close();
      await idp.stop();
      await a.close();
      await b.close();
      await redis.stop();
    },
  };
}

/** What Traefik's forwardAuth sends to /auth for a browser request to `url`. */
export function forwardAuthHeaders(url: string, cookie: string | undefined): Record<string, string> {
  const target = new URL(url);
  const headers: Record<string, string> = {
    Accept: "text/html,application/xhtml+xml",
    "User-Agent": "Mozilla/5.0 test",
    "X-Forwarded-Method": "GET",
    "X-Forwarded-Proto": target.protocol.replace(":", ""),
    "X-Forwarded-Host": target.host,
    "X-Forwarded-Uri": `${target.pathname}${target.search}`,
    "X-Forwarded-For": "127.0.0.1",
  };
  if (cookie !== undefined) headers.Cookie = cookie;
  return headers;
}

/** /auth on a replica as Traefik would call it, with the session cookie when given. */
export function authAs(vigil: TestVigil, url: string, token: string | undefined): Promise<Response> {
  return fetch(`${vigil.url}/auth`, {
    headers: forwardAuthHeaders(url, token === undefined ? undefined : `vigil_session=${token}`),
    redirect: "manual",
  });
}
