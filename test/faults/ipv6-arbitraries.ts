/**
 * fast-check generators of IPv6 prefixes and of addresses inside or outside one, written in every
 * text form a client or proxy may use (compressed, full, upper case, leading zeros).
 */
import fc from "fast-check";

export type Groups = readonly number[];

export interface Ipv6Prefix {
  /** Eight 16-bit groups, host bits cleared. */
  groups: Groups;
  length: number;
}

const group = fc.integer({ min: 0, max: 0xffff });
const groups = fc.array(group, { minLength: 8, maxLength: 8 });

/** ::ffff:0:0/96 holds IPv4 clients seen through a dual-stack socket: not an IPv6 client. */
const isMappedIpv4 = (g: Groups) => g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;

/** The groups with every bit from `length` on taken from `host` (bits before it from `network`). */
export function combine(network: Groups, host: Groups, length: number): number[] {
  return network.map((value, i) => {
    const bits = Math.min(16, Math.max(0, length - 16 * i));
    const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    return (value & mask) | ((host[i] as number) & ~mask & 0xffff);
  });
}

/** An IPv6 prefix of a length in [min, max], outside the IPv4-mapped range. */
export function ipv6Prefix(min = 32, max = 128): fc.Arbitrary<Ipv6Prefix> {
  return fc
    .record({ network: groups, length: fc.integer({ min, max }) })
    .map(({ network, length }) => ({ groups: combine(network, new Array(8).fill(0), length), length }))
    .filter((prefix) => !isMappedIpv4(prefix.groups));
}

/** Any address inside the prefix (host bits free). */
export function addressWithin(prefix: Ipv6Prefix): fc.Arbitrary<Groups> {
  return groups.map((host) => combine(prefix.groups, host, prefix.length)).filter((g) => !isMappedIpv4(g));
}

/** Any address outside the prefix: one of its network bits flipped, host bits free. */
export function addressOutside(prefix: Ipv6Prefix): fc.Arbitrary<Groups> {
  return fc
    .record({ bit: fc.integer({ min: 0, max: prefix.length - 1 }), host: groups })
    .map(({ bit, host }) => {
      const flipped = [...prefix.groups];
      const i = Math.floor(bit / 16);
      flipped[i] = (flipped[i] as number) ^ (0x8000 >> (bit % 16));
      return combine(flipped, host, prefix.length);
    })
    .filter((g) => !isMappedIpv4(g));
}

/** The address as text, in one of the forms the parser must treat as the same address. */
export function ipv6Text(address: Groups): fc.Arbitrary<string> {
  const hex = address.map((g) => g.toString(16));
  const full = hex.join(":");
  const padded = address.map((g) => g.toString(16).padStart(4, "0")).join(":");
  // Compress the first run of zero groups, if there is one (any run is a valid "::").
  const start = address.indexOf(0);
  let compressed = full;
  if (start >= 0) {
    let end = start;
    while (end < 8 && address[end] === 0) end++;
    compressed = `${hex.slice(0, start).join(":")}::${hex.slice(end).join(":")}`;
  }
  return fc.constantFrom(full, padded, padded.toUpperCase(), compressed, `[${compressed}]`);
}
