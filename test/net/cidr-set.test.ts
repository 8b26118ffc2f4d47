import { describe, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import { CidrSet } from "../../src/net/cidr-set.ts";
import {
  type Cidr,
  cidrContains,
  formatCidr,
  formatIp,
  type IpAddress,
  parseCidr,
} from "../../src/net/ip.ts";

// Generated prefix sets: more time per test and hook than the suite's default.
setDefaultTimeout(30_000);

describe("CidrSet", () => {
  const set = CidrSet.parse([
    "10.0.0.0/8",
    "192.168.1.0/24",
    "192.168.2.0/24", // touches the one before: merged
    "192.168.1.128/25", // inside the one before: merged
    "203.0.113.7",
    "2001:db8::/32",
    "2001:db9::1/128",
    "::ffff:198.51.100.0/120", // mapped prefix → 198.51.100.0/24
  ]);

  test.each([
    ["10.0.0.0", true],
    ["10.255.255.255", true],
    ["9.255.255.255", false],
    ["11.0.0.0", false],
    ["192.168.0.255", false],
    ["192.168.1.0", true],
    ["192.168.2.255", true],
    ["192.168.3.0", false],
    ["203.0.113.7", true],
    ["203.0.113.6", false],
    ["203.0.113.8", false],
    ["::ffff:10.1.1.1", true],
    ["198.51.100.9", true],
    ["2001:db8::", true],
    ["2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false],
    ["2001:db9::", false],
    ["2001:db9::1", true],
    ["2001:db9::2", false],
    ["::", false],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false],
    ["0.0.0.0", false],
    ["255.255.255.255", false],
    ["garbage", false],
    ["", false],
  ])("has(%s) = %p", (ip, expected) => {
    expect(set.has(ip)).toBe(expected);
  });

  test("merges overlapping and adjacent prefixes", () => {
    expect(set.size).toBe(8);
    // 10/8, 192.168.1-2, 198.51.100/24, 203.0.113.7 | 2001:db8::/32, 2001:db9::1
    expect(set.rangeCount).toBe(6);
  });

  test("/0 covers its whole family and nothing else", () => {
    const all4 = CidrSet.parse(["0.0.0.0/0"]);
    expect(all4.has("0.0.0.0")).toBe(true);
    expect(all4.has("255.255.255.255")).toBe(true);
    expect(all4.has("::1")).toBe(false);
    const all6 = CidrSet.parse(["::/0"]);
    expect(all6.has("::")).toBe(true);
    expect(all6.has("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).toBe(true);
    expect(all6.has("1.2.3.4")).toBe(false);
  });

  test("the empty set has nothing", () => {
    expect(CidrSet.empty.has("1.2.3.4")).toBe(false);
    expect(CidrSet.empty.has("::1")).toBe(false);
    expect(CidrSet.empty.rangeCount).toBe(0);
  });

  test("parse throws on a bad entry", () => {
    expect(() => CidrSet.parse(["1.2.3.4", "1.2.3.4/40"])).toThrow("1.2.3.4/40");
  });
});

// Property: the bisection over merged ranges answers exactly like a linear scan of the prefixes.
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv4 = u32.map((value): IpAddress => ({ version: 4, value }));
// Few distinct high words so IPv6 prefixes and addresses actually meet.
const word = fc.oneof(fc.constantFrom(0, 1, 0x20010db8, 0xffffffff), u32);
const ipv6 = fc
  .tuple(word, word, word, word)
  .map(([a, b, c, d]): IpAddress => ({ version: 6, words: [a, b, c, d] }));
const cidrOf = (ip: IpAddress, prefix: number): Cidr => parseCidr(`${formatIp(ip)}/${prefix}`)!;
const cidr4 = fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([ip, p]) => cidrOf(ip, p));
const cidr6 = fc.tuple(ipv6, fc.integer({ min: 0, max: 128 })).map(([ip, p]) => cidrOf(ip, p));
// Mostly long prefixes, as in real lists; a /0 now and then.
const cidr = fc.oneof(
  { weight: 3, arbitrary: cidr4 },
  { weight: 2, arbitrary: cidr6 },
  { weight: 1, arbitrary: fc.tuple(ipv4, fc.integer({ min: 20, max: 32 })).map(([ip, p]) => cidrOf(ip, p)) },
);

/** Addresses right at, before and after each range edge, plus random ones. */
function probesFor(cidrs: Cidr[], random: IpAddress[]): IpAddress[] {
  const probes = [...random];
  for (const c of cidrs) {
    if (c.version === 4) {
      const last = c.value + 2 ** (32 - c.prefix) - 1;
      for (const v of [c.value - 1, c.value, last, last + 1]) {
        if (v >= 0 && v <= 0xffffffff) probes.push({ version: 4, value: v });
      }
    } else {
      probes.push(c);
      const w = [...c.words] as [number, number, number, number];
      w[3] = (w[3] + 0xffffffff) >>> 0; // a neighbour below (wraps within the last word)
      probes.push({ version: 6, words: w });
    }
  }
  return probes;
}

test("CidrSet.has agrees with a linear scan (property)", () => {
  fc.assert(
    fc.property(
      fc.array(cidr, { maxLength: 40 }),
      fc.array(fc.oneof(ipv4, ipv6), { maxLength: 40 }),
      (cidrs, random) => {
        const set = CidrSet.from(cidrs);
        for (const ip of probesFor(cidrs, random)) {
          const expected = cidrs.some((c) => cidrContains(c, ip));
          if (set.has(ip) !== expected) {
            throw new Error(`${formatIp(ip)}: set ${!expected}, scan ${expected}; ${cidrs.map(formatCidr)}`);
          }
          expect(set.has(formatIp(ip))).toBe(expected);
        }
      },
    ),
    { numRuns: 500 },
  );
});
