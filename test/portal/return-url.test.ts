/** safeReturnUrl: only absolute http(s) URLs on hosts the configuration knows; everything else → portal. */
import { describe, expect, test } from "bun:test";
import { type AllowedReturnHosts, safeReturnUrl } from "../../src/http/portal/return-url.ts";

const allowed: AllowedReturnHosts = {
  publicOrigin: "https://auth.example.com",
  cookieDomain: "example.com",
  protectedHosts: ["grafana.internal.net", "*.corp.test"],
  policyHosts: ["app.other.org", "*.apps.other.org"],
};
const FALLBACK = "https://auth.example.com/";

describe("safeReturnUrl accepts", () => {
  test.each([
    ["https://auth.example.com/x", "https://auth.example.com/x"],
    ["https://example.com/", "https://example.com/"],
    ["https://app.example.com/a/b?c=1#d", "https://app.example.com/a/b?c=1#d"],
    ["https://deep.sub.example.com:8443/p", "https://deep.sub.example.com:8443/p"],
    ["https://APP.Example.COM/x", "https://app.example.com/x"],
    ["https://grafana.internal.net/d", "https://grafana.internal.net/d"],
    ["https://x.corp.test/", "https://x.corp.test/"],
    ["https://app.other.org/", "https://app.other.org/"],
    ["https://a.apps.other.org/", "https://a.apps.other.org/"],
  ])("%s", (rd, expected) => {
    expect(safeReturnUrl(rd, allowed)).toBe(expected);
  });

  test("plain http only for localhost names", () => {
    const local = {
      ...allowed,
      publicOrigin: "http://auth.vigil.localhost:8080",
      cookieDomain: "vigil.localhost",
    };
    expect(safeReturnUrl("http://app.vigil.localhost:3000/x", local)).toBe(
      "http://app.vigil.localhost:3000/x",
    );
    expect(safeReturnUrl("http://app.example.com/x", allowed)).toBe(FALLBACK);
  });
});

describe("safeReturnUrl refuses", () => {
  test.each([
    undefined,
    null,
    "",
    "/relative/path",
    "//evil.com",
    "//evil.com/https://app.example.com",
    "///evil.com",
    "https://evil.com",
    "https://evil.com/https://app.example.com/",
    "https://example.com.evil.com/",
    "https://evilexample.com/",
    "https://app.example.com@evil.com/",
    "https://user@evil.com",
    "https://user@app.example.com/",
    "https://user:pass@app.example.com/",
    "https://app.example.com%40evil.com/",
    "https://app.example.com%2f@evil.com/",
    "https://evil.com%2f.example.com/",
    "https://evil.com%2e.example.com/",
    "https://evil.com\\@app.example.com/",
    "https:\\\\evil.com",
    "https:/\\evil.com",
    "\\\\evil.com",
    "/\\evil.com",
    "javascript:alert(1)",
    "JavaScript://app.example.com/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox",
    "ftp://app.example.com/",
    "https:app.example.com",
    "https:/app.example.com",
    " https://app.example.com/",
    "https://app.example.com/\n",
    "https://app.example.com/\tx",
    "https://app.example.com/\u0000",
    "\u200bhttps://app.example.com/",
    "https://app.example.com\u3002evil.com/",
    "https://xn--80ak6aa92e.com/",
    "https://[::1]/",
    "https://127.0.0.1/",
    "https://other.org/",
    "https://apps.other.org/",
    "https://corp.test/",
    "https://grafana.internal.net.evil.com/",
    `https://app.example.com/${"a".repeat(5000)}`,
  ])("%p", (rd) => {
    expect(safeReturnUrl(rd as string | undefined, allowed)).toBe(FALLBACK);
  });

  test("without a cookie domain, only exact and listed hosts", () => {
    const hostOnly = { ...allowed, cookieDomain: undefined };
    expect(safeReturnUrl("https://app.example.com/", hostOnly)).toBe(FALLBACK);
    expect(safeReturnUrl("https://auth.example.com/ok", hostOnly)).toBe("https://auth.example.com/ok");
  });
});
