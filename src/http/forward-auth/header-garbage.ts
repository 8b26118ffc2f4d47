/**
 * JavaScriptCore schedules collections by the growth of its own heap, and the text of the header
 * values Vigil reads is not counted there: under a flood of requests with large unique headers
 * that text piled up unreclaimed (60k anonymous /auth with unique 6 KB User-Agents took a process
 * from about 200 to 780 MiB). This counts the header bytes a request reads beyond a typical
 * request's, and asks for a full collection each time they add up to a budget. Ordinary traffic
 * stays under the typical size and never triggers it.
 */

export interface HeaderGarbageSettings {
  /** Header bytes of an ordinary request; only what is above counts. */
  typicalBytes: number;
  /** Counted bytes between two collections. */
  budgetBytes: number;
  /** Runs the collection (Bun.gc(true) in production). */
  collect: () => void;
}

export const HEADER_GARBAGE_DEFAULTS = { typicalBytes: 2048, budgetBytes: 32 * 1024 * 1024 } as const;

/** Returns the per-request hook: pass it the header bytes the request read. */
export function createHeaderGarbageBudget(settings: HeaderGarbageSettings): (headerBytes: number) => void {
  let counted = 0;
  return (headerBytes) => {
    const excess = headerBytes - settings.typicalBytes;
    if (excess <= 0) return;
    counted += excess;
    if (counted < settings.budgetBytes) return;
    counted = 0;
    settings.collect();
  };
}
