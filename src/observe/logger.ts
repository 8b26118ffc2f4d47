/**
 * pino, configured once. Secrets never reach logs: the decision path logs no cookie, token,
 * Authorization header or query string, and these paths are redacted as a second line of defence.
 */
import pino, { type Logger } from "pino";

export type { Logger } from "pino";

const REDACT = [
  "cookie",
  "token",
  "authorization",
  "*.cookie",
  "*.token",
  "*.authorization",
  "headers.cookie",
  "headers.authorization",
  "enrollUrl",
  "*.enrollUrl",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "vigil" },
      redact: { paths: REDACT, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
