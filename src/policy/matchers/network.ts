/** Network matching: the client address inside one of the rule's IPv4/IPv6 CIDRs. */
import { CidrSet } from "../../net/cidr-set.ts";

export type NetworkMatcher = (clientIp: string) => boolean;

/** A matcher for a rule's `networks`; an invalid CIDR is refused at load. */
export function compileNetworks(cidrs: readonly string[]): NetworkMatcher {
  const set = CidrSet.parse(cidrs);
  return (clientIp) => set.has(clientIp);
}
