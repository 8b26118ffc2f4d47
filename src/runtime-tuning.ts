/**
 * Environment the Vigil process should be started with. The runtime reads it before any of
 * Vigil's code runs, so it cannot be set from here: `bun start` (package.json) and the Dockerfile
 * set it, bench/ starts Vigil with it, and server.ts warns when a process runs without it.
 *
 * MIMALLOC_PURGE_HOLES=0: Bun's allocator (its mimalloc build) otherwise keeps handing free ranges
 * inside its pages back to the kernel (`purge_holes`). Vigil's per-request garbage is freed in bulk
 * when the JS heap is swept, so that memory was given back and faulted in again about 0.3 times
 * per request. Measured on 2 cores, full decision: −11 % CPU per decision and +12 % throughput in
 * paired runs; 37–40 µs against 50.7 µs per decision in benches of the code with and without it.
 * It costs memory: peak RSS under full load 0–60 MiB higher (30–140 MiB with every allow logged).
 * mimalloc's ordinary purge of unused pages stays on, so RSS still falls back (226 MiB idle).
 * Figures and the settings tried: docs/performance.md, "The runtime setting".
 */
export const RUNTIME_ENV: Readonly<Record<string, string>> = Object.freeze({ MIMALLOC_PURGE_HOLES: "0" });

/** The RUNTIME_ENV names this process was started without (or with another value). */
export function missingRuntimeEnv(env: Record<string, string | undefined> = process.env): string[] {
  return Object.entries(RUNTIME_ENV)
    .filter(([name, value]) => env[name] !== value)
    .map(([name, value]) => `${name}=${value}`);
}
