/**
 * Bun's `diagnostics_channel.TracingChannel` has no `hasSubscribers` (Node ≥ 22 has it). ioredis
 * checks `channel.hasSubscribers !== false` before every command, so under Bun it traces every
 * command with nobody listening: it builds a context (the arguments copied and stringified) and
 * wraps the reply in an extra promise, on the decision path. This defines the property as Node
 * does (true when any of the five sub-channels has a subscriber), only where it is missing, so a
 * real tracer (e.g. OpenTelemetry) subscribing still sees every command. server.ts calls it once at
 * start; it patches a global prototype, so nothing does it at import time.
 *
 * Remove it when Bun's TracingChannel has `hasSubscribers` (Node's since 22): from then on the
 * `"hasSubscribers" in probe` check below returns at once, and
 * `bun -e 'console.log("hasSubscribers" in require("node:diagnostics_channel").tracingChannel("x"))'`
 * prints true.
 */
import diagnostics from "node:diagnostics_channel";

type SubChannel = { hasSubscribers: boolean };
type Tracing = Record<"start" | "end" | "asyncStart" | "asyncEnd" | "error", SubChannel | undefined>;

export function ensureTracingHasSubscribers(): void {
  const probe = diagnostics.tracingChannel("vigil:probe");
  const prototype = Object.getPrototypeOf(probe) as object;
  if ("hasSubscribers" in probe) return;
  Object.defineProperty(prototype, "hasSubscribers", {
    configurable: true,
    get(this: Tracing) {
      return Boolean(
        this.start?.hasSubscribers ||
          this.end?.hasSubscribers ||
          this.asyncStart?.hasSubscribers ||
          this.asyncEnd?.hasSubscribers ||
          this.error?.hasSubscribers,
      );
    },
  });
}
