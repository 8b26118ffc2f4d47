/**
 * POST /events: the Shared Signals (SSF/CAEP) push receiver (RFC 8935).
 *   202 Accepted                     the SET verified, its jti was new, its events were applied
 *   413 {err, description}           the body passed MAX_SET_BYTES (checked while reading)
 *   400 {err, description}           RFC 8935 error codes (invalid_request, invalid_key,
 *                                    invalid_issuer, invalid_audience, authentication_failed)
 *   503 {err, description}           keys or store unavailable: the transmitter should retry
 * Order: verify (signature, typ, iss, aud, iat age) → validate events → claim jti once
 * (ReplayGuard, events.jti_ttl; a replay gets 400) → apply. A failure while applying answers 503,
 * but the jti stays claimed, so a retry of that same SET is refused as a replay: the transmitter
 * must send a new SET (new jti). Applying is idempotent, so nothing is half-revoked.
 */
import type { Hono } from "hono";
import type { Config } from "../../config/load.ts";
import type { Logger } from "../../observe/logger.ts";
import type { Metrics } from "../../observe/metrics.ts";
import type { Stores } from "../../ports.ts";
import { readBodyText } from "../read-body.ts";
import { createEventApplier, eventLabel, validateEvent } from "./caep.ts";
import { createSetVerifier, MAX_SET_BYTES } from "./verify-set.ts";

export interface EventRouteDeps {
  config: Config;
  stores: Stores;
  clock: () => number;
  logger: Logger;
  metrics: Metrics;
}

const HEADERS = { "cache-control": "no-store" };

// biome-ignore lint/suspicious/noExplicitAny: any Hono env works here
export function registerEventRoutes(app: Hono<any>, deps: EventRouteDeps): void {
  const { config, stores, logger, metrics } = deps;
  const verifySet = createSetVerifier(config);
  const applyEvent = createEventApplier(stores);

  app.post("/events", async (c) => {
    // The limit holds while reading: a chunked body has no Content-Length to check first.
    const read = await readBodyText(c.req.raw, MAX_SET_BYTES);
    if (!read.ok) {
      metrics.events.inc({ type: "invalid", result: "invalid_request" });
      return c.json(
        { err: "invalid_request", description: `SET too large (more than ${read.limit} bytes)` },
        413,
        HEADERS,
      );
    }
    const body = read.text;
    const now = deps.clock();
    const verified = await verifySet(body, c.req.header("content-type"), now);
    if (!verified.ok) {
      metrics.events.inc({ type: "invalid", result: verified.err });
      logger.warn(
        { events: "set_refused", err: verified.err, description: verified.description },
        "SET refused",
      );
      return c.json({ err: verified.err, description: verified.description }, verified.status, HEADERS);
    }
    const { payload, issuer, events } = verified;
    const jti = payload.jti as string;
    for (const [type, event] of Object.entries(events)) {
      const problem = validateEvent(type, event, payload);
      if (problem) {
        metrics.events.inc({ type: eventLabel(type), result: "invalid_request" });
        logger.warn(
          { events: "set_refused", iss: issuer, jti, err: "invalid_request", description: problem },
          "SET refused",
        );
        return c.json({ err: "invalid_request", description: problem }, 400, HEADERS);
      }
    }

    let first: boolean;
    try {
      first = await stores.replay.claim(`set:${issuer}:${jti}`, config.events.jti_ttl);
    } catch (error) {
      logger.error(
        { err: (error as Error).message, iss: issuer, jti },
        "SET jti check failed: store unavailable",
      );
      return c.json(
        { err: "temporarily_unavailable", description: "store unavailable; retry later" },
        503,
        HEADERS,
      );
    }
    if (!first) {
      metrics.events.inc({ type: "replay", result: "invalid_request" });
      logger.warn({ events: "set_refused", iss: issuer, jti, err: "invalid_request" }, "SET replay refused");
      return c.json(
        { err: "invalid_request", description: "this jti was already received (replay)" },
        400,
        HEADERS,
      );
    }

    for (const [type, event] of Object.entries(events)) {
      try {
        const outcome = await applyEvent(type, event, payload);
        metrics.events.inc({ type: outcome.type, result: outcome.result });
        if (outcome.sessionsRevoked > 0)
          metrics.sessionsRevoked.inc({ cause: "event" }, outcome.sessionsRevoked);
        logger.info(
          {
            events: "applied",
            iss: issuer,
            jti,
            type: outcome.type,
            result: outcome.result,
            user: outcome.user,
            detail: outcome.detail,
          },
          "security event",
        );
      } catch (error) {
        metrics.events.inc({ type: eventLabel(type), result: "error" });
        logger.error(
          { events: "error", iss: issuer, jti, type: eventLabel(type), err: (error as Error).message },
          "security event could not be applied",
        );
        return c.json(
          { err: "temporarily_unavailable", description: "the event could not be applied; send a new SET" },
          503,
          HEADERS,
        );
      }
    }
    return c.body(null, 202, HEADERS);
  });
}
