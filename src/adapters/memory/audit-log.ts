/** The audit trail in process memory: a ring of the last maxRecords records (the embedded store). */
import { decodeAuditRecord, encodeAuditRecord } from "../../audit/record.ts";
import type { AuditLog, AuditRecord } from "../../ports.ts";

export function createMemoryAuditLog(maxRecords: number): AuditLog {
  const records: AuditRecord[] = [];
  return {
    async append(record) {
      // Same field cleaning as the Redis stream, so both adapters hand back the same record.
      const stored = decodeAuditRecord(encodeAuditRecord(record));
      if (stored === undefined) throw new Error("audit: not a valid record");
      records.push(stored);
      if (records.length > maxRecords) records.splice(0, records.length - maxRecords);
    },
    async recent(limit) {
      return records.slice(-Math.max(1, Math.trunc(limit))).reverse();
    },
  };
}
