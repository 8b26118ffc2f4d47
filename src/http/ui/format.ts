/** Small display helpers shared by the account page and the console. */

/** "2026-12-02 07:31 UTC"; "never" for 0. */
export function formatTime(ms: number): string {
  if (!ms) return "never";
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** How a session was signed in, from its amr (RFC 8176 values). */
export function signInMethod(amr: readonly string[]): string {
  if (amr.includes("hwk") || amr.includes("swk")) return "passkey";
  if (amr.includes("fed")) return "single sign-on";
  return amr.length > 0 ? amr.join(", ") : "unknown";
}
