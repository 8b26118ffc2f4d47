/**
 * Static lists (Tor exits, DROP, FireHOL...) and the dynamic reputation Redis keeps for an IP
 * (failed step-ups, rate violations). A deny list blocks outright; a score list adds its weight.
 */
import type { RiskReason } from "../../core/types.ts";
import { append, NO_EVIDENCE, type RiskSignal, RiskSignalName, type SignalOutcome } from "../types.ts";

export const ipReputationSignal: RiskSignal = (input, { config, lists }) => {
  let reasons: RiskReason[] | undefined;
  let block: SignalOutcome["block"];
  for (let i = 0; i < lists.length; i++) {
    const list = lists[i]!;
    if (!list.has(input.clientIp)) continue;
    if (list.action === "deny") {
      block ??= { signal: RiskSignalName.ipList, detail: `client address is on deny list "${list.name}"` };
    } else if (list.weight > 0) {
      reasons = append(reasons, {
        signal: RiskSignalName.ipList,
        points: list.weight,
        detail: `client address is on list "${list.name}"`,
      });
    }
  }
  const dynamic = Math.min(positive(input.ipReputation), config.dynamic_ip.max_points);
  if (dynamic > 0) {
    reasons = append(reasons, {
      signal: RiskSignalName.ipReputation,
      points: dynamic,
      detail: "recent failed step-ups or rate violations from this address",
    });
  }
  if (reasons === undefined && block === undefined) return NO_EVIDENCE;
  return block === undefined ? { reasons: reasons! } : { reasons: reasons ?? [], block };
};

/** Redis may hand back anything: only a finite positive count is evidence. */
function positive(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}
