/**
 * A reputation list compiled for lookups independent of its size (see CidrSet): what the risk
 * engine's ip-reputation signal consults on every request.
 */
import { CidrSet } from "../net/cidr-set.ts";
import type { Cidr } from "../net/ip.ts";
import type { IpListMatcher } from "./types.ts";

export interface IpListSpec {
  name: string;
  weight: number;
  action: "score" | "deny";
}

export interface CompiledIpList extends IpListMatcher {
  /** Entries read (before merging overlaps). */
  readonly entries: number;
}

/** An IP list as configured (name, points or deny) over its parsed prefixes, ready for lookups. */
export function compileIpList(spec: IpListSpec, cidrs: Iterable<Cidr>): CompiledIpList {
  const set = CidrSet.from(cidrs);
  return {
    name: spec.name,
    weight: spec.weight,
    action: spec.action,
    entries: set.size,
    has: (ip) => set.has(ip),
  };
}
