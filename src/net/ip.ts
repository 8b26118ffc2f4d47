/**
 * IP address and CIDR parsing shared by the risk lists, the policy's `networks` matcher and the
 * trusted-proxy logic. Strict on purpose: anything ambiguous (zone ids, leading zeros that some
 * parsers read as octal, brackets) is rejected rather than guessed.
 *
 * IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) are normalised to IPv4, so one list entry
 * 1.2.3.0/24 matches a client seen through a dual-stack socket too.
 */

export interface IPv4Address {
  version: 4;
  /** Unsigned 32-bit value, 0 .. 2^32-1. */
  value: number;
}

export interface IPv6Address {
  version: 6;
  /** The 128 bits as four unsigned 32-bit words, most significant first. */
  words: readonly [number, number, number, number];
}

export type IpAddress = IPv4Address | IPv6Address;

export type Cidr = (IPv4Address | IPv6Address) & {
  /** Prefix length: 0..32 for IPv4, 0..128 for IPv6. The address has its host bits cleared. */
  prefix: number;
};

/** Longest valid text form (IPv6 with embedded IPv4) is 45 characters; leave room for a prefix. */
const MAX_TEXT_LENGTH = 50;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses an IPv4 or IPv6 address; undefined when it is not exactly one. */
export function parseIp(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > MAX_TEXT_LENGTH) return undefined;
  if (text.includes(":")) return parseIPv6(text);
  const value = parseIPv4(text);
  return value === undefined ? undefined : { version: 4, value };
}

/** Dotted-quad IPv4 to its 32-bit value (a hand loop: this runs on every request). */
export function parseIPv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      // "010" is octal to inet_aton and decimal to others: refuse the ambiguity.
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (c - 48);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || dots !== 3) return undefined;
  return value * 256 + octet;
}

function parseIPv6(text: string): IpAddress | undefined {
  // A zone id (fe80::1%eth0) only means something on the host that wrote it.
  if (text.includes("%")) return undefined;
  const gap = text.indexOf("::");
  if (gap !== -1 && text.indexOf("::", gap + 1) !== -1) return undefined;
  let groups: number[];
  if (gap === -1) {
    const all = parseGroups(text, true);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  } else {
    const head = parseGroups(text.slice(0, gap), false);
    const tail = parseGroups(text.slice(gap + 2), true);
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const g = groups as [number, number, number, number, number, number, number, number];
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return { version: 4, value: g[6] * 0x10000 + g[7] };
  }
  return {
    version: 6,
    words: [
      (g[0] * 0x10000 + g[1]) >>> 0,
      (g[2] * 0x10000 + g[3]) >>> 0,
      (g[4] * 0x10000 + g[5]) >>> 0,
      (g[6] * 0x10000 + g[7]) >>> 0,
    ],
  };
}

/** Colon-separated 16-bit groups; the last one may be a dotted IPv4 (two groups). */
function parseGroups(part: string, allowTrailingIPv4: boolean): number[] | undefined {
  if (part === "") return [];
  const pieces = part.split(":");
  const groups: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    if (allowTrailingIPv4 && i === pieces.length - 1 && piece.includes(".")) {
      const v4 = parseIPv4(piece);
      if (v4 === undefined) return undefined;
      groups.push(Math.floor(v4 / 0x10000), v4 % 0x10000);
    } else if (HEX_GROUP.test(piece)) {
      groups.push(Number.parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** Canonical text: dotted quad, or RFC 5952 compressed lower-case IPv6. */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) {
    const v = ip.value;
    return `${Math.floor(v / 0x1000000)}.${Math.floor(v / 0x10000) % 256}.${Math.floor(v / 0x100) % 256}.${v % 256}`;
  }
  const groups = ip.words.flatMap((w) => [Math.floor(w / 0x10000), w % 0x10000]);
  // RFC 5952: compress the longest run (first on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** The address as an unsigned integer (IPv4: 32 bits, IPv6: 128 bits). */
export function ipToBigInt(ip: IpAddress): bigint {
  if (ip.version === 4) return BigInt(ip.value);
  return ip.words.reduce((acc, word) => (acc << 32n) | BigInt(word), 0n);
}

/** The mask of the `bits` most significant bits of a 32-bit word, as an unsigned number. */
function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128). Host bits are cleared
 * (10.1.2.3/8 is 10.0.0.0/8), as lists in the wild are not always tidy. A mapped IPv6 prefix
 * (::ffff:10.0.0.0/104) becomes the IPv4 prefix it covers.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === undefined) return undefined;
  const wasV6Text = text.slice(0, slash === -1 ? undefined : slash).includes(":");
  let prefix: number;
  if (slash === -1) {
    prefix = ip.version === 4 ? 32 : 128;
  } else {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > (wasV6Text ? 128 : 32)) return undefined;
    if (ip.version === 4 && wasV6Text) {
      // ::ffff:a.b.c.d/len — only prefixes inside ::ffff:0:0/96 map onto IPv4.
      if (prefix < 96) return undefined;
      prefix -= 96;
    }
  }
  if (ip.version === 4) return { version: 4, value: (ip.value & wordMask(prefix)) >>> 0, prefix };
  const w = ip.words;
  return {
    version: 6,
    words: [
      (w[0] & wordMask(prefix)) >>> 0,
      (w[1] & wordMask(prefix - 32)) >>> 0,
      (w[2] & wordMask(prefix - 64)) >>> 0,
      (w[3] & wordMask(prefix - 96)) >>> 0,
    ],
    prefix,
  };
}

/** "address/prefix", the address in its canonical text form. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr)}/${cidr.prefix}`;
}

/** Accepts text or an already parsed address; undefined for text that is not an address. */
export function toIp(ip: string | IpAddress): IpAddress | undefined {
  return typeof ip === "string" ? parseIp(ip) : ip;
}

/** true when the address is inside the prefix. IPv4 never matches an IPv6 prefix or the reverse. */
export function cidrContains(cidr: Cidr, ip: string | IpAddress): boolean {
  const address = toIp(ip);
  if (address === undefined || address.version !== cidr.version) return false;
  if (address.version === 4)
    return (address.value & wordMask(cidr.prefix)) >>> 0 === (cidr as IPv4Address).value;
  const net = (cidr as IPv6Address).words;
  for (let i = 0; i < 4; i++) {
    if ((address.words[i]! & wordMask(cidr.prefix - 32 * i)) >>> 0 !== net[i]) return false;
  }
  return true;
}

/** Linear scan: right for a handful of prefixes (trusted proxies); use CidrSet for big lists. */
export function ipInCidrs(ip: string | IpAddress, cidrs: readonly Cidr[]): boolean {
  const address = toIp(ip);
  if (address === undefined) return false;
  for (const cidr of cidrs) if (cidrContains(cidr, address)) return true;
  return false;
}

/** Parses a list of CIDR texts, throwing on the first bad one (for config, where bad = fatal). */
export function parseCidrs(texts: readonly string[]): Cidr[] {
  return texts.map((text) => {
    const cidr = parseCidr(text.trim());
    if (cidr === undefined) throw new Error(`invalid IP address or CIDR "${text}"`);
    return cidr;
  });
}

/**
 * Special-purpose ranges (IANA registries) that no geo database can place and that are not a
 * public client's address: private, loopback, link-local, CGNAT, documentation, multicast, ...
 */
const SPECIAL_PURPOSE = parseCidrs([
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.88.99.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "::/128",
  "::1/128",
  "::/96",
  "64:ff9b::/96",
  "64:ff9b:1::/48",
  "100::/64",
  "2001::/23",
  "2001:db8::/32",
  "2002::/16",
  "3fff::/20",
  "5f00::/16",
  "fc00::/7",
  "fe80::/10",
  "fec0::/10",
  "ff00::/8",
]);

/** true for private, loopback, link-local, documentation and other non-public addresses. */
export function isPrivateOrReserved(ip: string | IpAddress): boolean {
  const address = toIp(ip);
  if (address === undefined) return false;
  return ipInCidrs(address, SPECIAL_PURPOSE);
}
