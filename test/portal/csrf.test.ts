/** The portal's same-origin check, case by case (the browser journey is in test/e2e/sign-out.test.ts). */
import { expect, test } from "bun:test";
import { isSameOriginRequest } from "../../src/http/portal/csrf.ts";

const PORTAL = "https://auth.example.com";

test.each([
  // [Origin, Sec-Fetch-Site, accepted]
  [PORTAL, "same-origin", true],
  [PORTAL, undefined, true], // a browser without Fetch Metadata
  ["null", "same-origin", true], // a form post under a referrer policy that hides the origin
  [undefined, "same-origin", true],
  ["null", undefined, false],
  [undefined, undefined, false],
  ["https://evil.example", "same-origin", false],
  ["https://evil.example", undefined, false],
  [PORTAL, "same-site", false], // a sibling subdomain is another application
  [PORTAL, "cross-site", false],
  [PORTAL, "none", false],
  ["null", "cross-site", false], // a sandboxed frame elsewhere
  ["null", "same-site", false],
] as Array<[string | undefined, string | undefined, boolean]>)(
  "Origin %p, Sec-Fetch-Site %p → %p",
  (origin, site, accepted) => {
    const headers: Record<string, string | undefined> = { origin, "sec-fetch-site": site };
    expect(isSameOriginRequest((name) => headers[name], [PORTAL])).toBe(accepted);
  },
);
