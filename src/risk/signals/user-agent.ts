/**
 * Client change: the request's user agent (hashed) differs from the session's baseline. A stolen
 * cookie replayed from another client trips it; a copied user-agent string does not, hence only
 * a few points. No baseline, no evidence.
 */
import { NO_EVIDENCE, type RiskSignal, RiskSignalName } from "../types.ts";

export const userAgentSignal: RiskSignal = ({ session, userAgentHash }, { config }) => {
  const points = config.user_agent.change_points;
  if (session === undefined || session.uaHash === "" || points === 0) return NO_EVIDENCE;
  if (userAgentHash === session.uaHash) return NO_EVIDENCE;
  return {
    reasons: [
      {
        signal: RiskSignalName.userAgent,
        points,
        detail:
          userAgentHash === ""
            ? "user agent missing, session has one"
            : "user agent differs from the session's",
      },
    ],
  };
};
