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
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Config } from "../../config/load.ts";
import type { Logger } from "../../observe/logger.ts";
import type { Metrics } from "../../observe/metrics.ts";
import type { Stores } from "../../ports.ts";
import type { AppEnv } from "../app-env.ts";
import { readBodyText } from "../read-body.ts";
import { createEventApplier, eventLabel, subjectNamespaces, validateEvent } from "./caep.ts";
import { createSetVerifier, MAX_SET_BYTES } from "./verify-set.ts";

export interface EventRouteDeps {
  config: Config;
  stores: Stores;
  clock: () => number;
  logger: Logger;
  metrics: Metrics;
}

const HEADERS = { "cache-control": "no-store" };

/** How a refusal is counted and logged, besides its RFC 8935 answer. */
interface RefusalRecord {
  /** vigil_events_total labels; none when the SET was not counted (the store failed first). */
  counted?: { type: string; result: string };
  level: "warn" | "error";
  message: string;
  fields?: Record<string, unknown>;
}

/** A refused SET: thrown by the receiver, answered (and counted and logged) by one mapper. */
class SetRefused extends HTTPException {
  constructor(
    status: 400 | 413 | 503,
    readonly err: string,
    readonly description: string,
    readonly record: RefusalRecord,
  ) {
    super(status, {
      res: new Response(JSON.stringify({ err, description }), {
        status,
        headers: { "content-type": "application/json", ...HEADERS },
      }),
    });
  }
}

/** The SET receiver as a sub-app, mounted at the root. */
export function eventRoutes(deps: EventRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { config, stores, logger, metrics } = deps;
  const verifySet = createSetVerifier(config);
  const applyEvent = createEventApplier(stores, {
    namespaceOf: subjectNamespaces(config.jwt.issuers),
    stepUpAcr: config.stepup.acr,
    signInAcr: config.session.signin_acr,
  });

  // The one refusal mapper: count, log, answer. Any other error goes on to the app's handler.
  app.onError((error) => {
    if (!(error instanceof SetRefused)) throw error;
    const { counted, level, message, fields } = error.record;
    if (counted) metrics.events.inc(counted);
    logger[level]({ ...fields, err: error.err, description: error.description }, message);
    return error.getResponse();
  });

  app.post("/events", async (c) => {
    // The limit holds while reading: a chunked body has no Content-Length to check first.
    const read = await readBodyText(c.req.raw, MAX_SET_BYTES);
    if (!read.ok) {
      throw new SetRefused(413, "invalid_request", `SET too large (more than ${read.limit} bytes)`, {
        counted: { type: "invalid", result: "invalid_request" },
        level: "warn",
        message: "SET refused",
        fields: { events: "set_refused" },
      });
    }
    const body = read.text;
    const now = deps.clock();
    const verified = await verifySet(body, c.req.header("content-type"), now);
    if (!verified.ok) {
      throw new SetRefused(verified.status, verified.err, verified.description, {
        counted: { type: "invalid", result: verified.err },
        level: "warn",
        message: "SET refused",
        fields: { events: "set_refused" },
      });
    }
    const { payload, issuer, events } = verified;
    const jti = payload.jti as string;
    for (const [type, event] of Object.entries(events)) {
      const problem = validateEvent(type, event, payload);
      if (problem) {
        throw new SetRefused(400, "invalid_request", problem, {
          counted: { type: eventLabel(type), result: "invalid_request" },
          level: "warn",
          message: "SET refused",
          fields: { events: "set_refused", iss: issuer, jti },
        });
      }
    }

    let first: boolean;
    try {
      first = await stores.replay.claim(`set:${issuer}:${jti}`, config.events.jti_ttl);
    } catch (error) {
      throw new SetRefused(503, "temporarily_unavailable", "store unavailable; retry later", {
        level: "error",
        message: "SET jti check failed: store unavailable",
        fields: { iss: issuer, jti, cause: (error as Error).message },
      });
    }
    if (!first) {
      throw new SetRefused(400, "invalid_request", "this jti was already received (replay)", {
        counted: { type: "replay", result: "invalid_request" },
        level: "warn",
        message: "SET replay refused",
        fields: { events: "set_refused", iss: issuer, jti },
      });
    }

    for (const [type, event] of Object.entries(events)) {
      let outcome: Awaited<ReturnType<typeof applyEvent>>;
      try {
        outcome = await applyEvent(type, event, payload);
      } catch (error) {
        throw new SetRefused(
          503,
          "temporarily_unavailable",
          "the event could not be applied; send a new SET",
          {
            counted: { type: eventLabel(type), result: "error" },
            level: "error",
            message: "security event could not be applied",
            fields: {
              events: "error",
              iss: issuer,
              jti,
              type: eventLabel(type),
              cause: (error as Error).message,
            },
          },
        );
      }
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
    }
    return c.body(null, 202, HEADERS);
  });
  return app;
}
