/** The `ui` config keys are validated, and the relayed error pages keep JSON for API clients. */
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../../src/config/load.ts";
import type { Decision, RequestFacts } from "../../src/core/types.ts";
import { toResponse } from "../../src/http/forward-auth/response.ts";
import { brandingOf } from "../../src/http/ui/branding.ts";
import { MAX_LOGO_BYTES } from "../../src/http/ui/logo.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-branding-"));

test("ui keys: a bad logo type, an empty title and an unknown key are refused with the field named", () => {
  expect(() => resolveConfig({ ui: { logo_path: "/etc/logo.gif" } })).toThrow("ui.logo_path");
  expect(() => resolveConfig({ ui: { title: "  " } })).toThrow("ui.title");
  expect(() => resolveConfig({ ui: { access_help: "x".repeat(501) } })).toThrow("ui.access_help");
  expect(() => resolveConfig({ ui: { colour: "red" } })).toThrow("ui");
});

test("ui.logo_path: a missing, empty or oversized file stops the start; a good one gets a hashed path", () => {
  const missing = resolveConfig({ ui: { logo_path: join(dir, "none.svg") } });
  expect(() => brandingOf(missing)).toThrow("ui.logo_path: cannot read");
  const big = join(dir, "big.png");
  writeFileSync(big, new Uint8Array(MAX_LOGO_BYTES + 1));
  expect(() => brandingOf(resolveConfig({ ui: { logo_path: big } }))).toThrow("ui.logo_path");
  const good = join(dir, "good.svg");
  writeFileSync(good, "<svg xmlns='http://www.w3.org/2000/svg'/>");
  const branding = brandingOf(resolveConfig({ ui: { logo_path: good, title: "Example" } }));
  expect(branding.logoPath).toMatch(/^\/assets\/logo\.[0-9a-f]{16}\.svg$/);
  expect(branding.title).toBe("Example");
});

test("ui.logo_path: a file replaced between two starts in one process is read again", () => {
  const path = join(dir, "replaced.svg");
  writeFileSync(path, "<svg xmlns='http://www.w3.org/2000/svg'/>");
  const config = resolveConfig({ ui: { logo_path: path } });
  const first = brandingOf(config).logoPath;
  expect(brandingOf(config).logoPath).toBe(first);
  writeFileSync(path, "<svg xmlns='http://www.w3.org/2000/svg' width='48'/>");
  expect(brandingOf(config).logoPath).not.toBe(first);
  writeFileSync(path, "");
  expect(() => brandingOf(config)).toThrow("ui.logo_path");
});

const facts = (isBrowser: boolean) =>
  ({ isBrowser, originalUrl: "https://app.example.com/x" }) as RequestFacts;
const settings = { publicOrigin: "https://auth.example.com" };

test("503 and 429: a styled page for a browser, JSON for an API client", async () => {
  const unavailable: Decision = { kind: "unavailable", rule: "app", reasons: ["store_unavailable"] };
  const page = toResponse(unavailable, facts(true), settings);
  expect(page.status).toBe(503);
  expect(page.headers.get("content-type")).toContain("text/html");
  expect(page.headers.get("retry-after")).toBe("1");
  expect(await page.text()).toContain("Temporarily unavailable");
  const api = toResponse(unavailable, facts(false), settings);
  expect(await api.json()).toEqual({ error: "unavailable", reason: "store_unavailable" });

  const limited: Decision = {
    kind: "rate_limited",
    rule: "app",
    retryAfterSec: 7,
    reasons: ["rate_limited"],
  };
  const limitedPage = toResponse(limited, facts(true), settings);
  expect(limitedPage.status).toBe(429);
  expect(limitedPage.headers.get("retry-after")).toBe("7");
  expect(await limitedPage.text()).toContain("Please wait 7 second(s)");
});

test("403 for a browser: no inline style without the response's nonce, the user's id escaped", async () => {
  const denied: Decision = {
    kind: "deny",
    rule: "app",
    reasons: ["user_suspended"],
    identity: {
      userId: "<b>mallory</b>",
      groups: [],
      acr: "passkey",
      amr: [],
      authAt: 0,
      stepUpAt: 0,
      source: "session",
      sessionId: "s",
    },
  };
  const response = toResponse(denied, facts(true), settings);
  const csp = response.headers.get("content-security-policy") ?? "";
  expect(csp).not.toContain("unsafe-inline");
  const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
  const html = await response.text();
  expect(html).toContain(`<style nonce="${nonce}">`);
  expect(html).not.toContain("style=");
  expect(html).toContain("&lt;b&gt;mallory&lt;/b&gt;");
  expect(html).toContain("Your account is suspended");
});
