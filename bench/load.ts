/**
 * Load generators for bench/run.ts: wrk (closed loop, as fast as the server goes) with a Lua script
 * for the headers, and autocannon at a fixed overall rate for the steady-load p99.
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
function wrkScript(headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(
    ([name, value]) => `wrk.headers[${luaString(name)}] = ${luaString(value)}`,
  );
  return `${lines.join("\n")}
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
}

/** wrk -t1 -cN -dS on the load core; latency in ms. */
export async function runWrk(options: WrkOptions): Promise<LoadResult & { command: string }> {
  const script = join(options.dir, `wrk-${crypto.randomUUID()}.lua`);
  await Bun.write(script, wrkScript(options.headers));
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
  rate: number;
}

/**
 * autocannon at a fixed overall rate (requests/s across all connections), through
 * bench/fixed-rate.mjs under Node when present (else Bun). Percentiles from every response time.
 */
export async function runAutocannon(options: RateOptions): Promise<LoadResult & { command: string }> {
  const runtime = Bun.which("node") ?? process.execPath;
  const args = [
    runtime,
    join(import.meta.dir, "fixed-rate.mjs"),
    options.url,
    String(options.connections),
    String(options.rate),
    String(options.seconds),
    JSON.stringify(options.headers),
  ];
  const child = Bun.spawn(pinned(LOAD_CORE, args), { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  await child.exited;
  let report: {
    requests: number;
    seconds: number;
    errors: number;
    p50: number;
    p99: number;
    p999: number;
    max: number;
  };
  try {
    report = JSON.parse(out.trim().split("\n").pop() ?? "");
  } catch {
    throw new Error(`bench/fixed-rate.mjs printed no JSON:\n${out}\n${err}`);
  }
  return {
    ...report,
    rps: report.requests / report.seconds,
    command: `node bench/fixed-rate.mjs <url> ${options.connections} ${options.rate} ${options.seconds} '<headers JSON>' (autocannon overallRate)`,
  };
}
