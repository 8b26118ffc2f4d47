/**
 * The audit trail as the admin verbs use it: bound to who is acting (actor, channel, address), it
 * writes each change once to the log (pino line `audit: "change"`) and once to the bounded store.
 * A store that cannot take the record does not undo the change: the log line still holds it and
 * the failure is logged as an error.
 */
import type { AuditLog, AuditRecord } from "../ports.ts";

export interface AuditActor {
  actor: string;
  via: AuditRecord["via"];
  ip: string;
}

export interface AuditChange {
  action: string;
  target: string;
  result: string;
  detail?: string | undefined;
}

export interface AuditTrail {
  record(change: AuditChange): Promise<void>;
}

/** Just the log calls the trail needs (pino's shape). */
export interface AuditLineWriter {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export function createAuditTrail(
  store: AuditLog,
  logger: AuditLineWriter,
  actor: AuditActor,
  clock: () => number,
): AuditTrail {
  return {
    async record(change) {
      const record: AuditRecord = { at: clock(), ...actor, ...change };
      logger.info({ audit: "change", ...record }, "admin change");
      try {
        await store.append(record);
      } catch (error) {
        logger.error(
          { audit: "change", action: change.action, target: change.target, err: (error as Error).message },
          "audit record not stored (the log line above holds it)",
        );
      }
    },
  };
}
