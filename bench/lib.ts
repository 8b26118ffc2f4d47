/**
 * Plumbing for bench/run.ts: processes pinned to a core, free ports, /proc readings, a throwaway
 * redis-server, and Redis INFO commandstats. Loopback only.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { cpus } from "node:os";
import type { Subprocess } from "bun";
import { freeLoopbackPort as freePort } from "../test/helpers/free-port.ts";

export const LOOPBACK = "127.0.0.1";

/** Server on core 1, load generator (and Redis) on core 0, when the machine has two cores and taskset. */
export const PINNING = Bun.which("taskset") !== null && cpus().length >= 2;
export const SERVER_CORE = "1";
export const LOAD_CORE = "0";

export function pinned(core: string, command: string[]): string[] {
  return PINNING ? ["taskset", "-c", core, ...command] : command;
}

/** Asks the kernel for a free loopback port, then releases it (the tests' helper). */
export { freePort };

/** Resident set size of a process in MiB (VmRSS from /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Peak resident set size in MiB since the last resetPeakRss (VmHWM). */
export function peakRssMiB(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** Restarts VmHWM from the current RSS (Linux clear_refs 5), so the peak covers only what follows. */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    // Not permitted (another user's process): the peak then includes start-up.
  }
}

/** User + system CPU time of a process in microseconds (/proc/<pid>/stat, clock ticks of 10 ms). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command name: state(0) … utime(11) stime(12), in clock ticks.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / 100;
}

/** Polls until an HTTP GET answers (any status), or throws. */
export async function waitForHttp(url: string, child: Subprocess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`${url}: no answer within ${timeoutMs} ms`);
}

export async function stopProcess(child: Subprocess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGKILL");
  await child.exited;
}

/** A throwaway redis-server on its own loopback port, pinned with the load generator. */
export async function spawnRedis(dir: string): Promise<{ port: number; url: string; child: Subprocess }> {
  const port = await freePort();
  const child = Bun.spawn(
    pinned(LOAD_CORE, [
      process.env.REDIS_SERVER_BIN ?? "redis-server",
      "--port",
      String(port),
      "--bind",
      LOOPBACK,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--loglevel",
      "warning",
    ]),
    { stdout: "ignore", stderr: "inherit" },
  );
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if ((await redisCommand(port, "PING").catch(() => "")).startsWith("+PONG")) {
      return { port, url: `redis://${LOOPBACK}:${port}`, child };
    }
    await Bun.sleep(20);
  }
  child.kill("SIGKILL");
  throw new Error("redis-server did not start");
}

/** One inline command on a fresh connection; resolves with the raw reply once it looks complete. */
export function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: LOOPBACK, port });
    let reply = "";
    socket.setTimeout(2_000, () => {
      socket.destroy();
      reject(new Error("redis timeout"));
    });
    socket.once("error", reject);
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (data) => {
      reply += data.toString();
      // Bulk reply: $<len>\r\n<body>\r\n; simple replies end at the first CRLF.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      const complete = bulk
        ? Buffer.byteLength(reply) >= bulk[0].length + Number(bulk[1]) + 2
        : reply.endsWith("\r\n");
      if (complete) {
        socket.destroy();
        resolve(reply);
      }
    });
  });
}

/** INFO commandstats → { evalsha: calls, hgetall: calls, … } */
export async function commandStats(port: number): Promise<Record<string, number>> {
  const text = await redisCommand(port, "INFO commandstats");
  const stats: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats[match[1]!] = Number(match[2]);
  return stats;
}

/**
 * Microseconds Redis spent running script calls (EVALSHA + EVAL), from INFO commandstats. A
 * script's usec includes every command it ran inside Redis (those also appear on their own rows,
 * so they are not added again).
 */
export async function scriptMicros(port: number): Promise<{ calls: number; usec: number }> {
  const text = await redisCommand(port, "INFO commandstats");
  let calls = 0;
  let usec = 0;
  for (const match of text.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+),usec=(\d+)/gm)) {
    calls += Number(match[1]);
    usec += Number(match[2]);
  }
  return { calls, usec };
}

/**
 * CPU time (µs) of Redis's main thread, user + system (INFO cpu): unlike commandstats' wall-clock
 * usec, it does not grow while other processes hold the core, so it compares runs on a busy machine.
 * It includes reading requests and writing replies.
 */
export async function redisCpuMicros(port: number): Promise<number> {
  const text = await redisCommand(port, "INFO cpu");
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(text)?.[1] ?? Number.NaN);
  return (field("used_cpu_user_main_thread") + field("used_cpu_sys_main_thread")) * 1e6;
}

/** Socket reads Redis has processed (INFO stats total_reads_processed): fewer than commands when they arrive batched. */
export async function readsProcessed(port: number): Promise<number> {
  const text = await redisCommand(port, "INFO stats");
  return Number(/^total_reads_processed:(\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

export function statsDelta(before: Record<string, number>, after: Record<string, number>) {
  const delta: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const d = calls - (before[name] ?? 0);
    if (d > 0 && name !== "info") delta[name] = d;
  }
  return delta;
}

export function percentileOf(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

/** Machine description for RESULTS.md. */
export function machineInfo(): string[] {
  const cpu = cpus();
  const kernel = readFileSync("/proc/version", "utf8").split(" ").slice(0, 3).join(" ");
  const memory = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
  return [
    `CPU: ${cpu[0]?.model ?? "?"} × ${cpu.length} logical cores`,
    `Memory: ${memory ? (Number(memory[1]) / 1024 / 1024).toFixed(1) : "?"} GiB`,
    `Kernel: ${kernel}`,
    `Bun ${Bun.version}`,
  ];
}
