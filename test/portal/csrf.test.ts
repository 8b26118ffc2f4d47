/**
 * isSameOriginRequest: the portal's state-changing endpoints accept their own pages' requests
 * only. Forms posted from portal pages (Referrer-Policy: no-referrer) carry "Origin: null"; then
 * the browser-set Sec-Fetch-Site must say same-origin.
 */
import { expect, test } from "bun:test";
import { isSameOriginRequest } from "../../src/http/portal/csrf.ts";

const ORIGINS = ["https://auth.example.com"];
const check = (headers: Record<string, string>) => isSameOriginRequest((name) => headers[name], ORIGINS);

test.each([
  [{ origin: "https://auth.example.com" }, true],
  [{ origin: "https://auth.example.com", "sec-fetch-site": "same-origin" }, true],
  [{ origin: "https://auth.example.com", "sec-fetch-site": "cross-site" }, false],
  [{ origin: "https://evil.example", "sec-fetch-site": "same-origin" }, false],
  [{ origin: "null", "sec-fetch-site": "same-origin" }, true],
  [{ origin: "null", "sec-fetch-site": "cross-site" }, false],
  [{ origin: "null", "sec-fetch-site": "same-site" }, false],
  [{ origin: "null" }, false],
  [{}, false],
  [{ "sec-fetch-site": "same-origin" }, false],
])("%p → %p", (headers, expected) => {
  expect(check(headers as Record<string, string>)).toBe(expected);
});
