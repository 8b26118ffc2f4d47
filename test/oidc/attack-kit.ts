/**
 * What the OIDC attack files share: one real IdP and two Vigil replicas per file, and the steps of
 * an attack: sign in at the IdP for real, capture the callback the browser would follow, and
 * deliver it (as is, altered, or twice) with the browser's flow cookie. The sign-in walks the IdP's
 * redirects and forms with a cookie-keeping HTTP client; the browser journey itself
 * (journey.test.ts) runs in Chromium.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { CookieAgent } from "../helpers/cookie-agent.ts";
import { type IdpUserSpec, idpFormAnswer } from "../helpers/oidc-idp.ts";
import { APP_HOST, type OidcStack, startOidcStack } from "./harness.ts";

export const APP = `http://${APP_HOST}/reports`;

/** The stack of the running file (set by useAttackStack's beforeAll). */
export let stack: OidcStack;

/** Starts the IdP and two replicas before the calling file's tests; stops them after. */
export function useAttackStack(): void {
  beforeAll(async () => {
    stack = await startOidcStack({
      extraProviders: [
        { id: "domains", allowed_domains: ["example.com"] },
        { id: "groups", allowed_groups: ["staff"] },
        { id: "existing", provisioning: "existing" },
        { id: "down", issuer: "http://127.0.0.1:9" },
      ],
      // Every test starts flows from 127.0.0.1: lift the per-address start limit for this file.
      config: { regulation: { max_starts: 10_000 } },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });
}

export interface Captured {
  /** The callback URL the IdP sent the browser to (not followed). */
  callback: URL;
  /** The browser's vigil_oidc flow cookie. */
  flowCookie: string;
  /** The browser: its cookies at Vigil and at the IdP (an IdP session included). */
  agent: CookieAgent;
}

/** Redirects and form posts before a sign-in is given up as stuck. */
const MAX_STEPS = 20;

/** A browser (fresh unless given): signs in at the IdP through `provider` and stops at the callback. */
export async function untilCallback(
  provider: string,
  user: IdpUserSpec,
  options: { acr?: "pwd" | "mfa"; path?: string; agent?: CookieAgent; cookie?: string } = {},
): Promise<Captured> {
  const agent = options.agent ?? new CookieAgent();
  if (options.cookie) agent.setCookie(stack.origin, "vigil_session", options.cookie);
  const callbackPrefix = `${stack.origin}/oidc/${provider}/callback`;
  let url = new URL(options.path ?? `/oidc/${provider}/login?rd=${encodeURIComponent(APP)}`, stack.origin);
  let response = await agent.fetch(url);
  for (let step = 0; step < MAX_STEPS; step++) {
    const location = response.headers.get("location");
    if (location !== null) {
      const next = new URL(location, url);
      if (next.href.startsWith(callbackPrefix)) {
        const flowCookie = agent.cookie(next.href, "vigil_oidc");
        // Vigil sets it when the flow starts: without it every delivery would fail as flow_missing.
        if (flowCookie === undefined) throw new Error(`no vigil_oidc cookie for ${next.pathname}`);
        return { callback: next, flowCookie, agent };
      }
      url = next;
      response = await agent.fetch(url);
      continue;
    }
    const html = await response.text();
    const answer = idpFormAnswer(html, user, options.acr ?? "pwd");
    if (answer === undefined) {
      throw new Error(`sign-in stuck at ${url} (${response.status}): ${html.slice(0, 400)}`);
    }
    url = new URL(answer.action, url);
    response = await agent.fetch(url, { method: "POST", body: answer.body });
  }
  throw new Error(`sign-in did not reach ${callbackPrefix} in ${MAX_STEPS} steps`);
}

/** Delivers a callback to replica A as the browser would (with its flow cookie). */
export function deliver(
  callback: URL,
  flowCookie: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  const cookie = [flowCookie ? `vigil_oidc=${flowCookie}` : "", extra.cookie ?? ""]
    .filter(Boolean)
    .join("; ");
  return fetch(`${stack.a.url}${callback.pathname}${callback.search}`, {
    headers: { accept: "text/html", ...extra, cookie },
    redirect: "manual",
  });
}

export const sessionCookieOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .find((c) => c.startsWith("vigil_session=") && !c.startsWith("vigil_session=;"))
    ?.split(";")[0]
    ?.slice("vigil_session=".length);

export async function expectRefused(response: Response, status: number, reason: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(sessionCookieOf(response)).toBeUndefined();
  const body = await response.text();
  expect(body).toContain(`<code id="reason">${reason}</code>`);
}

export async function sessionsOf(user: string): Promise<number> {
  return (await stack.a.stores.sessions.listByUser(user)).length;
}
