/** Host matching: exact names and "*.suffix" wildcards, case-insensitive, port and trailing dot ignored. */
export type HostMatcher = (host: string) => boolean;

/** Lower case, without a trailing dot: the form hosts are matched in. */
export function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, "");
}

/** A matcher for a rule's `hosts`: exact names in a set, "*.suffix" patterns by suffix. */
export function compileHosts(patterns: readonly string[]): HostMatcher {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of patterns) {
    const pattern = normaliseHost(raw.trim());
    if (pattern.startsWith("*.")) {
      const suffix = pattern.slice(1); // ".example.com"
      if (suffix.includes("*")) throw new Error(`host pattern "${raw}": "*" only as the first label`);
      suffixes.push(suffix);
    } else {
      if (pattern.includes("*")) throw new Error(`host pattern "${raw}": "*" only as the first label`);
      if (!/^[a-z0-9.-]+$/.test(pattern)) throw new Error(`host pattern "${raw}" is not a host name`);
      exact.add(pattern);
    }
  }
  return (host) => exact.has(host) || suffixes.some((suffix) => host.endsWith(suffix));
}
