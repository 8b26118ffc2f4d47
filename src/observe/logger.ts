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

/**
 * Without a destination, lines go to stdout through pino's asynchronous destination (sonic-boom,
 * sync: false): a decision never waits on a write(2). pino flushes it synchronously at exit.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "vigil" },
      redact: { paths: REDACT, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * The logger for the per-request decision line: same destination, level and format, but without
 * the redaction pass (≈ 5 µs a line). Safe only because that line is built field by field from
 * fixed keys (decision, rule, reasons, user, session prefix, ip, method, host, path, risk, …),
 * none of which is a redacted path: redaction could never change it. Every other line keeps it.
 */
export function createDecisionLogger(logger: Logger): Logger {
  return logger.child({}, { redact: [] });
}

/**
 * Writes out every line the logger has accepted, then resolves (at most `boundMs` later). For the
 * last lines before `process.exit`: `logger.flush()` returns at once while a write of the
 * asynchronous destination is still in flight, and exiting then drops it.
 */
export function drainLogger(logger: Logger, boundMs = 1_000): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | (NodeJS.WritableStream & { destroyed?: boolean })
    | undefined;
  if (stream === undefined || typeof stream.end !== "function" || stream.destroyed) return Promise.resolve();
  return new Promise<void>((drained) => {
    setTimeout(drained, boundMs).unref();
    stream.once("close", () => drained());
    stream.once("error", () => drained());
    stream.end();
  });
}
