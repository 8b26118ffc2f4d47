/**
 * Reads the IP list formats found in the wild into CIDRs:
 * - plain addresses or CIDRs, one per line (Tor's torbulkexitlist, most blocklists)
 * - FireHOL .netset: `#` comments
 * - Spamhaus DROP/EDROP text: `1.2.3.0/24 ; SBL123`, `;` comments; and its JSON lines form
 *   (`{"cidr":"1.2.3.0/24","sblid":…}`, with a trailing `{"type":"metadata",…}` line)
 * - Tor exit-addresses: `ExitAddress 1.2.3.4 2024-01-01 00:00:00` among ExitNode/Published/LastStatus
 * A bad line is counted and skipped: one typo must not drop a 100k-entry list.
 */
import { type Cidr, parseCidr } from "../net/ip.ts";

export interface ParsedIpList {
  cidrs: Cidr[];
  /** Lines that were neither blank, a comment, a known header nor an address. */
  badLines: number;
  /** The first bad line (1-based number and a truncated copy), for the operator's log. */
  firstBad: { line: number; text: string } | undefined;
}

/** Lines of Tor's exit-addresses document that carry no address. */
const TOR_KEYWORDS = new Set(["ExitNode", "Published", "LastStatus"]);
const MAX_REPORTED_LINE = 80;

/**
 * Reads one IP list file in any of the formats above into CIDRs;
 * bad lines are counted and the first is kept for the operator's log, never fatal.
 */
export function parseIpList(text: string): ParsedIpList {
  const cidrs: Cidr[] = [];
  let badLines = 0;
  let firstBad: ParsedIpList["firstBad"];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const entry = entryOf(raw);
    if (entry === null) continue;
    const cidr = entry === undefined ? undefined : parseCidr(entry);
    if (cidr !== undefined) {
      cidrs.push(cidr);
      continue;
    }
    badLines++;
    firstBad ??= { line: i + 1, text: raw.trim().slice(0, MAX_REPORTED_LINE) };
  }
  return { cidrs, badLines, firstBad };
}

/** The address text on a line; null for a line without one (blank, comment, header); undefined if unreadable. */
function entryOf(raw: string): string | null | undefined {
  let line = raw.trim();
  if (line.startsWith("{")) return jsonEntry(line);
  const comment = line.search(/[#;]/);
  if (comment !== -1) line = line.slice(0, comment).trim();
  if (line === "") return null;
  const fields = line.split(/\s+/);
  const first = fields[0] as string;
  if (first === "ExitAddress") return fields[1];
  if (TOR_KEYWORDS.has(first)) return null;
  return fields.length === 1 ? first : undefined;
}

/** Spamhaus DROP JSON lines: {"cidr": "…"}; the metadata record has none. */
function jsonEntry(line: string): string | null | undefined {
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    if (typeof record.cidr === "string") return record.cidr;
    return record.type === "metadata" ? null : undefined;
  } catch {
    return undefined;
  }
}
