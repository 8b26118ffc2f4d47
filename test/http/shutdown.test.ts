/** A real process: SIGTERM drains and exits 0, logging why. */
import { expect, test } from "bun:test";
import { spawnVigilProcess } from "../helpers/vigil-process.ts";

test("SIGTERM stops Vigil gracefully: exit code 0 and a shutdown line", async () => {
  const vigil = await spawnVigilProcess({ VIGIL_LOG_LEVEL: "info" });
  expect((await fetch(`${vigil.url}/healthz`)).status).toBe(200);
  vigil.process.kill("SIGTERM");
  const code = await Promise.race([vigil.process.exited, Bun.sleep(5_000).then(() => "timeout" as const)]);
  expect(code).toBe(0);
  await vigil.outputRead;
  const lines = vigil.logLines().map((line) => (line.startsWith("{") ? JSON.parse(line) : { msg: line }));
  expect(
    lines.some((line) => line.msg === "shutting down: draining connections" && line.signal === "SIGTERM"),
  ).toBe(true);
});
