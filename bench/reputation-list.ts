/**
 * A random reputation list for the bench, shaped like real blocklists: mostly single IPv4
 * addresses, a fifth IPv4 prefixes (/16–/32), a tenth IPv6 prefixes. Deterministic (seeded).
 * IPv4 entries never start with `avoidFirstOctet`, so the benchmark's client is never on the list.
 */
import { writeFileSync } from "node:fs";

/** Deterministic PRNG (mulberry32) so bench runs are comparable. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export function writeReputationList(path: string, size: number, avoidFirstOctet: number, seed = 7): number {
  const next = mulberry32(seed);
  const byte = () => Math.floor(next() * 256);
  const hex = () => Math.floor(next() * 0x10000).toString(16);
  const lines: string[] = ["# vigil bench: random reputation list"];
  while (lines.length - 1 < size) {
    const roll = next();
    let entry: string;
    if (roll < 0.1) entry = `2001:${hex()}:${hex()}:${hex()}::/${48 + Math.floor(next() * 17)}`;
    else {
      const first = 1 + Math.floor(next() * 222);
      if (first === avoidFirstOctet) continue;
      const v4 = `${first}.${byte()}.${byte()}.${byte()}`;
      entry = roll < 0.3 ? `${v4}/${16 + Math.floor(next() * 17)}` : v4;
    }
    lines.push(entry);
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
  return size;
}
