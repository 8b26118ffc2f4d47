import { expect, test } from "bun:test";
import { hashUserAgent } from "../../src/risk/user-agent-hash.ts";

const chrome = (version: string) =>
  `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version} Safari/537.36`;
const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

test("stable, short hex", () => {
  expect(hashUserAgent(firefox)).toMatch(/^[0-9a-f]{32}$/);
  expect(hashUserAgent(firefox)).toBe(hashUserAgent(firefox));
  // Pinned: the value is stored in sessions and must not drift across releases.
  expect(hashUserAgent("curl/8.5.0")).toBe("d26c0650abb48cff3c037b137b03713f");
  expect(hashUserAgent("curl/8.5.0")).toBe(hashUserAgent("curl/8"));
});

test("a minor browser update is the same client, a major one or another browser is not", () => {
  expect(hashUserAgent(chrome("131.0.6778.85"))).toBe(hashUserAgent(chrome("131.0.6778.139")));
  expect(hashUserAgent(chrome("131.0.0.0"))).not.toBe(hashUserAgent(chrome("132.0.0.0")));
  expect(hashUserAgent(chrome("131.0.0.0"))).not.toBe(hashUserAgent(firefox));
});

test("no user agent, no baseline", () => {
  expect(hashUserAgent("")).toBe("");
  expect(hashUserAgent("   ")).toBe("");
});
