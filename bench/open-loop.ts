/**
 * An open-loop, fixed-rate load generator (the wrk2 model): request i is due at start + i/rate and
 * is sent then whether or not earlier ones have answered; its latency is measured from the time
 * it was DUE, so a stall is charged to every request it delays (no coordinated omission).
 * autocannon's overallRate is not used for the steady-load p99: it sends each second's quota per
 * connection in a burst, which measures its own bursts.
 *
 * CLI (run by bench/run.ts on the load core): bun bench/open-loop.ts <url> <rate> <seconds> '<headers JSON>'
 * Prints one JSON line: requests, seconds, errors, statuses, p50/p99/p999/max (ms).
 */

export interface OpenLoopOptions {
  url: string;
  headers: Record<string, string>;
  /** Requests per second. */
  rate: number;
  seconds: number;
  /** Called with each answer's status (the load test checks every one). */
  onAnswer?: (status: number) => void;
}

export interface OpenLoopResult {
  requests: number;
  seconds: number;
  errors: number;
  statuses: Record<string, number>;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const interval = 1000 / options.rate;
  const total = Math.round(options.rate * options.seconds);
  const latencies = new Float64Array(total);
  const statuses: Record<string, number> = {};
  let errors = 0;
  let done = 0;
  const start = performance.now();
  const inflight = new Set<Promise<void>>();

  const send = (i: number) => {
    const due = start + i * interval;
    const request = fetch(options.url, { headers: options.headers, redirect: "manual" })
      .then(async (response) => {
        await response.arrayBuffer();
        latencies[i] = performance.now() - due;
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (response.status < 200 || response.status > 299) errors++;
        options.onAnswer?.(response.status);
      })
      .catch(() => {
        latencies[i] = performance.now() - due;
        statuses.error = (statuses.error ?? 0) + 1;
        errors++;
        options.onAnswer?.(-1);
      })
      .finally(() => {
        done++;
        inflight.delete(request);
      });
    inflight.add(request);
  };

  let next = 0;
  while (next < total) {
    const now = performance.now();
    while (next < total && start + next * interval <= now) send(next++);
    // Timers resolve to about a millisecond; each wake-up sends every request due by then.
    await Bun.sleep(Math.max(0, Math.min(1, start + next * interval - performance.now())));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  const sorted = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  return {
    requests: done,
    seconds: elapsed,
    errors,
    statuses,
    p50: at(50),
    p99: at(99),
    p999: at(99.9),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

if (import.meta.main) {
  const [url, rate, seconds, headers] = process.argv.slice(2);
  const result = await openLoop({
    url: url!,
    rate: Number(rate),
    seconds: Number(seconds),
    headers: JSON.parse(headers ?? "{}"),
  });
  console.log(JSON.stringify(result));
}
