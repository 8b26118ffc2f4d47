/**
 * One address form in every log line: a real Vigil process (`bun src/main.ts` listens dual-stack,
 * so the socket reports an IPv4 client as ::ffff:127.0.0.1) writes the same 127.0.0.1 in its
 * admin audit lines (allowed and refused) as in its decision lines.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnVigilProcess, type VigilProcess } from "../helpers/vigil-process.ts";

const ADMIN_TOKEN = "audit-address-token-0123456789abcdef";
let vigil: VigilProcess;

type LogLine = {
  msg?: string;
  audit?: string;
  decision?: string;
  ip?: string;
  peer?: string;
  result?: string;
};

const logEntries = (): LogLine[] =>
  vigil.logLines().flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });

async function entry(match: (line: LogLine) => boolean): Promise<LogLine | undefined> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    const found = logEntries().find(match);
    if (found) return found;
    await Bun.sleep(25);
  }
  return undefined;
}

beforeAll(async () => {
  const env: Record<string, string> = { VIGIL_ADMIN_TOKEN: ADMIN_TOKEN, VIGIL_LOG_LEVEL: "info" };
  // The in-memory store: this test is about the log lines, not the store.
  vigil = await spawnVigilProcess({ ...env, REDIS_URL: "" }, { readyPath: "/healthz" });
});
afterAll(async () => vigil?.stop());

test("admin audit lines and decision lines write the client as 127.0.0.1, not ::ffff:127.0.0.1", async () => {
  const listed = await fetch(`${vigil.url}/admin/users`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(listed.status).toBe(200);
  const refused = await fetch(`${vigil.url}/admin/users`, { headers: { authorization: "Bearer wrong" } });
  expect(refused.status).toBe(401);
  const decision = await fetch(`${vigil.url}/auth`, {
    headers: {
      "X-Forwarded-Method": "GET",
      "X-Forwarded-Host": "app.localhost",
      "X-Forwarded-Uri": "/reports",
      Accept: "application/json",
    },
  });
  expect(decision.status).toBe(401);
  const malformed = await fetch(`${vigil.url}/auth`, { headers: { "X-Forwarded-Uri": "no-slash" } });
  expect(malformed.status).toBe(400);

  const audit = await entry((l) => l.audit === "admin" && l.result === "ok");
  const unauthorized = await entry((l) => l.audit === "admin" && l.result === "unauthorized");
  const decided = await entry((l) => l.decision !== undefined && l.decision !== "bad_request");
  const bad = await entry((l) => l.decision === "bad_request");
  expect(decided?.ip).toBe("127.0.0.1");
  expect(audit?.ip).toBe("127.0.0.1");
  expect(unauthorized?.ip).toBe("127.0.0.1");
  expect(bad?.peer).toBe("127.0.0.1");
  expect(vigil.output()).not.toContain("::ffff:");
});
