/**
 * The audit trail in a Redis stream: XADD with MAXLEN ~ N (Redis trims whole nodes, so the
 * stream holds at least N records and a little more), read newest first with XREVRANGE. The key
 * carries its own hash tag so it lives on one Cluster slot.
 */
import type { Cluster, default as Redis } from "ioredis";
import { decodeAuditRecord, encodeAuditRecord } from "../../audit/record.ts";
import type { AuditLog, AuditRecord } from "../../ports.ts";

export function createRedisAuditLog(client: Redis | Cluster, key: string, maxRecords: number): AuditLog {
  return {
    async append(record) {
      const fields = Object.entries(encodeAuditRecord(record)).flat();
      await client.xadd(key, "MAXLEN", "~", maxRecords, "*", ...fields);
    },
    async recent(limit) {
      const entries = await client.xrevrange(key, "+", "-", "COUNT", Math.max(1, Math.trunc(limit)));
      const records: AuditRecord[] = [];
      for (const [, flat] of entries) {
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
        const record = decodeAuditRecord(fields);
        if (record) records.push(record);
      }
      return records;
    },
  };
}
