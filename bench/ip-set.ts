/**
 * CidrSet lookups on a 100k-entry list against a 1k-entry one: the cost should barely move
 * (bisection: ~17 vs ~10 steps, no allocation). Run: bun bench/ip-set.ts
 */
import { CidrSet } from "../src/net/cidr-set.ts";
import { formatIp, type IpAddress, parseIp } from "../src/net/ip.ts";
import { mulberry32 } from "./reputation-list.ts";

const u32 = (next: () => number) => Math.floor(next() * 2 ** 32) >>> 0;
const v4 = (next: () => number): IpAddress => ({ version: 4, value: u32(next) });
const v6 = (next: () => number): IpAddress => ({
  version: 6,
  words: [(0x20010000 | (u32(next) & 0xffff)) >>> 0, u32(next), u32(next), u32(next)],
});

/** Like real blocklists: mostly single IPv4 addresses, some prefixes, a tenth IPv6. */
function randomList(size: number, seed: number): string[] {
  const next = mulberry32(seed);
  const entries: string[] = [];
  for (let i = 0; i < size; i++) {
    const roll = next();
    if (roll < 0.1) entries.push(`${formatIp(v6(next))}/${48 + Math.floor(next() * 81)}`);
    else if (roll < 0.3) entries.push(`${formatIp(v4(next))}/${16 + Math.floor(next() * 17)}`);
    else entries.push(formatIp(v4(next)));
  }
  return entries;
}

function probes(count: number, seed: number, list: string[]): string[] {
  const next = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const roll = next();
    // A few hits, mostly misses (the common case), a tenth IPv6.
    if (roll < 0.1) return list[Math.floor(next() * list.length)]!.split("/")[0]!;
    if (roll < 0.2) return formatIp(v6(next));
    return formatIp(v4(next));
  });
}

function measure(label: string, lookup: (i: number) => boolean, count: number): void {
  let hits = 0;
  for (let i = 0; i < Math.min(count, 200_000); i++) if (lookup(i)) hits++; // warm-up
  hits = 0;
  const rounds = 5;
  const started = Bun.nanoseconds();
  for (let round = 0; round < rounds; round++) for (let i = 0; i < count; i++) if (lookup(i)) hits++;
  const seconds = (Bun.nanoseconds() - started) / 1e9;
  const perSecond = (rounds * count) / seconds;
  console.log(
    `${label.padEnd(34)} ${(perSecond / 1e6).toFixed(2).padStart(6)} M lookups/s  ${((1e9 / perSecond) | 0).toString().padStart(4)} ns/lookup  (hits ${hits / rounds})`,
  );
}

const PROBES = 1_000_000;
for (const size of [1_000, 100_000]) {
  const list = randomList(size, size);
  let started = Bun.nanoseconds();
  const set = CidrSet.parse(list);
  const buildMs = (Bun.nanoseconds() - started) / 1e6;
  console.log(`\n${size} entries → ${set.rangeCount} ranges, built in ${buildMs.toFixed(1)} ms`);
  const texts = probes(PROBES, 7, list);
  const parsed = texts.map((t) => parseIp(t)!);
  measure("has(text)  parse + search", (i) => set.has(texts[i]!), PROBES);
  measure("has(IpAddress)  search only", (i) => set.has(parsed[i]!), PROBES);
  started = Bun.nanoseconds();
  for (const text of texts) parseIp(text);
  console.log(
    `${"parseIp alone".padEnd(34)} ${(((Bun.nanoseconds() - started) / PROBES) | 0).toString().padStart(21)} ns/parse`,
  );
}
