/**
 * A decision on a session signed in through the IdP costs what one on a passkey session costs:
 * one script call, the same commands inside it. Counted by Redis itself (INFO commandstats) on a
 * redis-server that serves nothing but this test's replica.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import Redis from "ioredis";
import type { Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { signIn } from "../helpers/vigil.ts";
import { ALICE, APP_HOST, authAs, type OidcStack, PROVIDER_ID, startOidcStack } from "./harness.ts";

// A real IdP and Vigil replicas: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

const APP = `http://${APP_HOST}/reports`;
const DECISIONS = 50;

let stack: OidcStack;
let browser: Browser;
let redis: Redis;

beforeAll(async () => {
  stack = await startOidcStack({ ownRedis: true });
  browser = await launchChromium(15_000);
  redis = new Redis(stack.redisUrl);
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await browser?.close().catch(() => {});
  await stack?.close();
});

/** INFO commandstats → { command: calls }. */
async function commandCalls(): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const line of (await redis.info("commandstats")).split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls[match[1] ?? ""] = Number(match[2]);
  }
  return calls;
}

/** Commands Redis ran (script internals included) for `DECISIONS` decisions with `token`. */
async function commandsPerDecision(token: string): Promise<Record<string, number>> {
  expect((await authAs(stack.a, APP, token)).status).toBe(200); // the script is loaded
  await redis.config("RESETSTAT");
  for (let i = 0; i < DECISIONS; i++) expect((await authAs(stack.a, APP, token)).status).toBe(200);
  const calls = await commandCalls();
  delete calls["config|resetstat"];
  delete calls.info;
  return Object.fromEntries(Object.entries(calls).map(([name, n]) => [name, n / DECISIONS]));
}

test("an IdP session's decision is one EVALSHA, command for command the same as a passkey session's", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.origin}/oidc/${PROVIDER_ID}/login?rd=${encodeURIComponent(APP)}`);
  await stack.idp.signInWith(page, ALICE, "pwd");
  await page.waitForURL((url) => url.hostname === APP_HOST).catch(() => {});
  const federated =
    (await context.cookies(stack.origin)).find((c) => c.name === "vigil_session")?.value ?? "";
  await context.close();
  expect((await stack.a.stores.sessions.listByUser("alice"))[0]?.federation?.provider).toBe(PROVIDER_ID);

  const passkey = await signIn(stack.a.stores, { id: "bob" }, Date.now());

  const idpCost = await commandsPerDecision(federated);
  const passkeyCost = await commandsPerDecision(passkey.token);
  expect(idpCost.evalsha).toBe(1);
  expect(idpCost).toEqual(passkeyCost);
}, 60_000);
