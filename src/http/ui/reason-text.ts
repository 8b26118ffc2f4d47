/** Plain-words explanations of the denial reason codes, for the 403 page a person sees. */
import { Reason } from "../../core/reasons.ts";

const EXPLANATIONS: Record<string, string> = {
  [Reason.ruleDenied]: "The access policy closes this address to everyone.",
  [Reason.userSuspended]:
    "Your account is suspended. An administrator has to resume it before you can continue.",
  [Reason.userNotAllowed]: "Your account is not among the people allowed to open this page.",
  [Reason.groupRequired]: "This page is only for members of a group your account is not in.",
  [Reason.ipBlocked]: "Requests from your network address are blocked.",
  [Reason.riskTooHigh]:
    "This request looked too unusual to allow (for example a new country, network or browser). Try again from your usual device and network.",
};

export function explainDenial(reason: string): string {
  return EXPLANATIONS[reason] ?? "You are not allowed to open this page.";
}
