/**
 * Load generators for bench/run.ts: wrk closed loop (as fast as the server goes) with a Lua script
 * for the headers, and wrk paced to a steady rate (Lua delay()) for the steady-load p99.
 */
import { join } from "node:path";
import { LOAD_CORE, pinned } from "./lib.ts";

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Non-2xx/3xx answers plus socket errors and timeouts. */
  errors: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

const luaString = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/** The wrk script: fixed headers, and a done() that prints one JSON line the runner parses. */
function wrkScript(headers: Record<string, string>, prelude = ""): string {
  const lines = Object.entries(headers).map(
    ([name, value]) => `wrk.headers[${luaString(name)}] = ${luaString(value)}`,
  );
  return `${prelude}${lines.join("\n")}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"errors":%d,"p50":%d,"p99":%d,"p999":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`;
}

export interface WrkOptions {
  url: string;
  headers: Record<string, string>;
  seconds: number;
  connections: number;
  dir: string;
  /** Lua run before the headers (e.g. a delay() for pacing). */
  prelude?: string;
}

/** wrk -t1 -cN -dS on the load core; latency in ms. */
export async function runWrk(options: WrkOptions): Promise<LoadResult & { command: string }> {
  const script = join(options.dir, `wrk-${crypto.randomUUID()}.lua`);
  await Bun.write(script, wrkScript(options.headers, options.prelude));
  const args = [
    "wrk",
    "-t1",
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    "--timeout",
    "5s",
    "-s",
    script,
    options.url,
  ];
  const child = Bun.spawn(pinned(LOAD_CORE, args), { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  await child.exited;
  const line = out.split("\n").find((l) => l.startsWith("WRKJSON "));
  if (!line) throw new Error(`wrk printed no result:\n${out}\n${err}`);
  const raw = JSON.parse(line.slice("WRKJSON ".length)) as Record<string, number>;
  const seconds = raw.duration_us! / 1e6;
  return {
    requests: raw.requests!,
    seconds,
    rps: raw.requests! / seconds,
    errors: raw.errors!,
    p50: raw.p50! / 1000,
    p99: raw.p99! / 1000,
    p999: raw.p999! / 1000,
    max: raw.max! / 1000,
    command: args.map((a) => (a === script ? "bench/<case>.lua" : a)).join(" "),
  };
}

export interface RateOptions {
  url: string;
  headers: Record<string, string>;
  seconds: number;
  connections: number;
  /** Requests per second across all connections. */
  rate: number;
  dir: string;
}

/**
 * wrk at a steady rate: each connection waits a random, exponentially distributed gap (mean
 * connections/rate, less the expected answer time) before its next request, so arrivals are
 * Poisson-like and never a synchronised burst. Latency is measured from the send, in µs.
 */
export async function runWrkAtRate(options: RateOptions): Promise<LoadResult & { command: string }> {
  const meanMs = (options.connections * 1000) / options.rate - 0.2;
  const pacing = `local mean = ${meanMs.toFixed(3)}
delay = function() return math.floor(-mean * math.log(1 - math.random()) + 0.5) end
`;
  return runWrk({ ...options, prelude: pacing });
}
