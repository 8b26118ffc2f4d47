/**
 * One sign-in or step-up at an IdP, from the button to the callback. Its secrets (state, nonce,
 * PKCE verifier) stay server-side in the one-time store, under the hash of a random flow id that
 * only the browser holds, in a short-lived HttpOnly cookie scoped to /oidc/. The callback takes
 * the record (read and delete at once), so a replayed callback finds nothing.
 */
import { createHash } from "node:crypto";
import type { Config } from "../config/load.ts";
import type { OneTimeStore } from "../ports.ts";

export const FLOW_COOKIE = "vigil_oidc";

export interface FlowRecord {
  provider: string;
  purpose: "signin" | "stepup";
  state: string;
  nonce: string;
  pkceVerifier: string;
  /** Where to send the browser afterwards (already checked by safeReturnUrl). */
  rd: string;
  startedAt: number;
  /** For a step-up: the session being stepped up and its user. */
  sessionId?: string;
  userId?: string;
  /** acr_values sent to the IdP. */
  acrValues: string[];
}

const flowKey = (flowId: string) => `oidc-flow:${createHash("sha256").update(flowId).digest("hex")}`;

export function newFlowId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export async function saveFlow(store: OneTimeStore, flowId: string, record: FlowRecord, ttlMs: number) {
  await store.put(flowKey(flowId), JSON.stringify(record), ttlMs);
}

export async function takeFlow(store: OneTimeStore, flowId: string): Promise<FlowRecord | undefined> {
  const raw = await store.take(flowKey(flowId));
  return raw === undefined ? undefined : (JSON.parse(raw) as FlowRecord);
}

type CookieSettings = Pick<Config, "cookieSecure">;

/**
 * SameSite=Lax: the callback is a top-level GET navigation coming back from the IdP's site, which
 * Lax cookies follow and Strict ones do not.
 */
export function flowCookie(flowId: string, ttlMs: number, config: CookieSettings): string {
  return [
    `${FLOW_COOKIE}=${flowId}`,
    "Path=/oidc/",
    `Max-Age=${Math.max(1, Math.floor(ttlMs / 1000))}`,
    "HttpOnly",
    config.cookieSecure ? "Secure" : undefined,
    "SameSite=Lax",
  ]
    .filter(Boolean)
    .join("; ");
}

export function clearedFlowCookie(config: CookieSettings): string {
  return [
    `${FLOW_COOKIE}=`,
    "Path=/oidc/",
    "Max-Age=0",
    "HttpOnly",
    config.cookieSecure ? "Secure" : undefined,
    "SameSite=Lax",
  ]
    .filter(Boolean)
    .join("; ");
}
