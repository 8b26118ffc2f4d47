/** clientKey: the network every per-client counter, ban and reputation is keyed on; and its config. */
import { describe, expect, test } from "bun:test";
import { ConfigError, resolveConfig } from "../../src/config/load.ts";
import { clientKey, DEFAULT_CLIENT_PREFIXES } from "../../src/net/client-prefix.ts";

describe("clientKey", () => {
  test("defaults: an IPv4 client per address, an IPv6 client per /64", () => {
    expect(clientKey("203.0.113.9", DEFAULT_CLIENT_PREFIXES)).toBe("203.0.113.9");
    expect(clientKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd", DEFAULT_CLIENT_PREFIXES)).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:DB8:1:2::1", DEFAULT_CLIENT_PREFIXES)).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:3::1", DEFAULT_CLIENT_PREFIXES)).toBe("2001:db8:1:3::/64");
  });

  test("an IPv4-mapped IPv6 address is the IPv4 client it maps", () => {
    expect(clientKey("::ffff:203.0.113.9", DEFAULT_CLIENT_PREFIXES)).toBe("203.0.113.9");
    expect(clientKey("::ffff:203.0.113.9", { ipv4: 24, ipv6: 64 })).toBe("203.0.113.0/24");
  });

  test("other prefix lengths clear the host bits; a full length is the bare address", () => {
    expect(clientKey("198.51.100.77", { ipv4: 24, ipv6: 64 })).toBe("198.51.100.0/24");
    expect(clientKey("2001:db8:abcd:12ff::1", { ipv4: 32, ipv6: 56 })).toBe("2001:db8:abcd:1200::/56");
    expect(clientKey("2001:db8:abcd:12ff::1", { ipv4: 32, ipv6: 128 })).toBe("2001:db8:abcd:12ff::1");
  });

  test("text that is not an address is left as it is", () => {
    expect(clientKey("not-an-ip", DEFAULT_CLIENT_PREFIXES)).toBe("not-an-ip");
  });
});

describe("client_prefix config", () => {
  test("defaults to ipv4 32, ipv6 64", () => {
    expect(resolveConfig({}).client_prefix).toEqual({ ipv4: 32, ipv6: 64 });
    expect(resolveConfig({ client_prefix: { ipv6: 56 } }).client_prefix).toEqual({ ipv4: 32, ipv6: 56 });
  });

  test.each([
    [{ ipv6: 129 }, "client_prefix.ipv6"],
    [{ ipv6: 16 }, "client_prefix.ipv6"],
    [{ ipv4: 33 }, "client_prefix.ipv4"],
    [{ ipv4: 8 }, "client_prefix.ipv4"],
    [{ ipv4: 24.5 }, "client_prefix.ipv4"],
    [{ ipv6: "64" }, "client_prefix.ipv6"],
    [{ ipv8: 1 }, "client_prefix"],
  ])("%o is refused, naming %s", (value, field) => {
    expect(() => resolveConfig({ client_prefix: value })).toThrow(ConfigError);
    expect(() => resolveConfig({ client_prefix: value })).toThrow(field);
  });
});
