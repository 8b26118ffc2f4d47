import { describe, expect, test } from "bun:test";
import {
  cidrContains,
  formatCidr,
  formatIp,
  ipInCidrs,
  ipToBigInt,
  isPrivateOrReserved,
  parseCidr,
  parseCidrs,
  parseIp,
} from "../../src/net/ip.ts";

const text = (ip: string) => {
  const parsed = parseIp(ip);
  return parsed === undefined ? undefined : formatIp(parsed);
};

describe("parseIp", () => {
  test.each([
    ["1.2.3.4", "1.2.3.4"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["::", "::"],
    ["::1", "::1"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["1::", "1::"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    // IPv4-mapped addresses are IPv4.
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::FFFF:0102:0304", "1.2.3.4"],
    ["0:0:0:0:0:ffff:10.0.0.1", "10.0.0.1"],
  ])("%s → %s", (input, expected) => {
    expect(text(input)).toBe(expected);
  });

  test.each([
    "",
    "1.2.3",
    "1.2.3.4.5",
    "1.2.3.256",
    "01.2.3.4",
    "1.2.3.04",
    "1..2.3",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.-1",
    "a.b.c.d",
    "fe80::1%eth0",
    "[::1]",
    ":::",
    "1:::2",
    "1::2::3",
    ":1::2",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::",
    "12345::",
    "::g",
    "::1.2.3",
    "1.2.3.4::",
    "::ffff:1.2.3.4/32",
    "1.2.3.4/32",
  ])("rejects %p", (input) => {
    expect(parseIp(input)).toBeUndefined();
  });

  test("keeps IPv4 and IPv6 apart", () => {
    expect(parseIp("1.2.3.4")?.version).toBe(4);
    expect(parseIp("::ffff:1.2.3.4")?.version).toBe(4);
    expect(parseIp("::1.2.3.4")?.version).toBe(6);
  });

  test("ipToBigInt", () => {
    expect(ipToBigInt(parseIp("255.255.255.255")!)).toBe(0xffffffffn);
    expect(ipToBigInt(parseIp("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")!)).toBe((1n << 128n) - 1n);
    expect(ipToBigInt(parseIp("::1:0:0:0")!)).toBe(1n << 48n);
  });
});

describe("parseCidr / cidrContains", () => {
  test.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["1.2.3.4", "1.2.3.4/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["2001:db8::1/128", "2001:db8::1/128"],
    ["2001:db8:ffff::/31", "2001:db8::/31"],
    ["::/0", "::/0"],
    ["::1", "::1/128"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:1.2.3.4", "1.2.3.4/32"],
  ])("%s → %s", (input, expected) => {
    const cidr = parseCidr(input);
    expect(cidr && formatCidr(cidr)).toBe(expected);
  });

  test.each([
    "10.0.0.0/33",
    "::/129",
    "10.0.0.0/",
    "10.0.0.0/a",
    "10.0.0.0/-1",
    "/8",
    "::ffff:1.2.3.4/95",
    "x/8",
  ])("rejects %p", (input) => {
    expect(parseCidr(input)).toBeUndefined();
  });

  test.each([
    ["10.0.0.0/8", "10.0.0.0", true],
    ["10.0.0.0/8", "10.255.255.255", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["10.0.0.0/8", "9.255.255.255", false],
    ["0.0.0.0/0", "255.255.255.255", true],
    ["0.0.0.0/0", "::1", false],
    ["1.2.3.4/32", "1.2.3.4", true],
    ["1.2.3.4/32", "1.2.3.5", false],
    ["1.2.3.0/24", "::ffff:1.2.3.200", true],
    ["2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["2001:db8::/32", "2001:db9::", false],
    ["2001:db8::/33", "2001:db8:8000::", false],
    ["2001:db8::/33", "2001:db8:7fff::", true],
    ["::/0", "2001:db8::1", true],
    ["::/0", "1.2.3.4", false],
    ["2001:db8::1/128", "2001:db8::1", true],
    ["2001:db8::1/128", "2001:db8::2", false],
    ["fe80::/10", "febf::1", true],
    ["fe80::/10", "fec0::1", false],
    ["10.0.0.0/8", "not an ip", false],
  ])("%s contains %s: %p", (cidr, ip, expected) => {
    expect(cidrContains(parseCidr(cidr)!, ip)).toBe(expected);
  });

  test("ipInCidrs and parseCidrs", () => {
    const cidrs = parseCidrs(["10.0.0.0/8", " fd00::/8 "]);
    expect(ipInCidrs("10.9.9.9", cidrs)).toBe(true);
    expect(ipInCidrs("fd12::1", cidrs)).toBe(true);
    expect(ipInCidrs("8.8.8.8", cidrs)).toBe(false);
    expect(() => parseCidrs(["10.0.0.0/8", "nope"])).toThrow('"nope"');
  });
});

describe("isPrivateOrReserved", () => {
  test.each([
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "127.0.0.1",
    "169.254.1.1",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "::",
    "::1",
    "fe80::1",
    "fd00::1",
    "2001:db8::1",
    "ff02::1",
    "::ffff:192.168.0.1",
  ])("%s is not public", (ip) => {
    expect(isPrivateOrReserved(ip)).toBe(true);
  });

  test.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2001:4860:4860::8888", "2a00:1450:4001::1"])(
    "%s is public",
    (ip) => {
      expect(isPrivateOrReserved(ip)).toBe(false);
    },
  );
});
