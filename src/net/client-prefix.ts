/**
 * The key every per-client control counts under: the client's address cut to a configured
 * prefix. One IPv6 subscriber usually holds a whole /64 (often a /56 or /48) and can pick a new
 * address for every request, so a limit keyed on the exact /128 limits nothing. IPv4 stays per
 * address by default (/32): NAT already puts many users behind one.
 *
 * Static lists (policy `networks`, IP reputation lists, trusted proxies) still match the exact
 * address; only counters, bans and reputation earned at run time are keyed here.
 */
import { formatCidr, formatIp, parseCidr, parseIp } from "./ip.ts";

export interface ClientPrefixes {
  /** Prefix length for IPv4 clients, 0..32 (32 = per address). */
  ipv4: number;
  /** Prefix length for IPv6 clients, 0..128 (64 = per subscriber network, the usual assignment). */
  ipv6: number;
}

export const DEFAULT_CLIENT_PREFIXES: Readonly<ClientPrefixes> = Object.freeze({ ipv4: 32, ipv6: 64 });

/**
 * "1.2.3.4" (a full-length prefix is the bare address), "1.2.3.0/24", "2001:db8:1:2::/64".
 * One network has exactly one key: the address is canonical and its host bits are cleared.
 * Text that is not an address is returned as it is (callers pass parsed, canonical addresses).
 */
export function clientKey(ip: string, prefixes: ClientPrefixes): string {
  const address = parseIp(ip);
  if (address === undefined) return ip;
  const canonical = formatIp(address);
  const [length, full] = address.version === 4 ? [prefixes.ipv4, 32] : [prefixes.ipv6, 128];
  if (length >= full) return canonical;
  const network = parseCidr(`${canonical}/${length}`);
  return network === undefined ? canonical : formatCidr(network);
}
