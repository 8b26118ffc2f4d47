/**
 * Audit records: the one shape every admin change is written in, and what may go into one.
 * Fields are bounded and single-line so a record can never smuggle log lines or grow without end.
 */
import type { AuditRecord } from "../ports.ts";

export const DEFAULT_AUDIT_MAX_RECORDS = 10_000;

const FIELD_LIMIT = 256;

/** Control characters become "?"; long values are cut (a record is for people, not for replay). */
export function auditField(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, "?");
  return clean.length > FIELD_LIMIT ? `${clean.slice(0, FIELD_LIMIT - 1)}…` : clean;
}

const VIA = new Set<AuditRecord["via"]>(["api", "cli", "console", "account"]);

export function encodeAuditRecord(record: AuditRecord): Record<string, string> {
  const fields: Record<string, string> = {
    at: String(record.at),
    actor: auditField(record.actor),
    via: record.via,
    action: auditField(record.action),
    target: auditField(record.target),
    ip: auditField(record.ip),
    result: auditField(record.result),
  };
  if (record.detail !== undefined) fields.detail = auditField(record.detail);
  return fields;
}

/** The stored fields back into a record; undefined for anything that is not one. */
export function decodeAuditRecord(fields: Record<string, string>): AuditRecord | undefined {
  const at = Number(fields.at);
  const via = fields.via as AuditRecord["via"];
  if (!Number.isFinite(at) || !VIA.has(via)) return undefined;
  return {
    at,
    actor: fields.actor ?? "",
    via,
    action: fields.action ?? "",
    target: fields.target ?? "",
    ip: fields.ip ?? "",
    result: fields.result ?? "",
    detail: fields.detail,
  };
}
