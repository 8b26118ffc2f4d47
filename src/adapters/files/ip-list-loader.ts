/**
 * Loads the `risk.ip_lists` files into matchers and keeps them current as the files change.
 *
 * - Start: synchronous and loud. A missing or unreadable file, or one with no readable entry at
 *   all, is a configuration error that stops the start (naming the list and the path).
 * - Change: the file's directory is watched (not the file: editors and `mv` replace the inode,
 *   and Kubernetes ConfigMaps swap a `..data` symlink), events are debounced, and the new list
 *   replaces the old one atomically. If the new file cannot be read or has no valid entry, the
 *   old list stays and an event says why.
 */
import { type FSWatcher, readFileSync, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { ConfigError } from "../../config/load.ts";
import { type CompiledIpList, compileIpList, type IpListSpec } from "../../risk/ip-set.ts";
import { type ParsedIpList, parseIpList } from "../../risk/list-format.ts";
import type { IpListMatcher } from "../../risk/types.ts";

export interface IpListFileSpec extends IpListSpec {
  path: string;
}

/** Outcome of loading one list, for the log and metrics. */
export type IpListReload =
  | {
      ok: true;
      name: string;
      path: string;
      entries: number;
      badLines: number;
      firstBad: ParsedIpList["firstBad"];
    }
  | { ok: false; name: string; path: string; error: string };

export interface IpListLoaderOptions {
  /** Quiet time after the last file event before reloading (a writer may need several writes). */
  debounceMs?: number;
  /** Watch the files; false loads once (CLI, tests). */
  watch?: boolean;
  /** Every load (also the first ones) and every refused reload. */
  onReload?: (result: IpListReload) => void;
}

const DEFAULT_DEBOUNCE_MS = 300;

interface ListState {
  spec: IpListFileSpec;
  path: string;
  matcher: CompiledIpList;
  contentHash: bigint | number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The reload in flight, and whether another was asked for meanwhile. */
  running: Promise<void> | undefined;
  again: boolean;
}

export class IpListLoader {
  private readonly states: ListState[];
  private readonly watchers: FSWatcher[] = [];
  private readonly debounceMs: number;
  private readonly report: (result: IpListReload) => void;
  private snapshot: readonly IpListMatcher[];
  private closed = false;

  /** Loads every list synchronously; throws a ConfigError (naming list and path) when one cannot be used. */
  constructor(specs: readonly IpListFileSpec[], options: IpListLoaderOptions = {}) {
    this.debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.report = options.onReload ?? (() => {});
    this.states = [];
    const failures: string[] = [];
    for (const [index, spec] of specs.entries()) {
      try {
        this.states.push(loadAtStart(spec, index, this.report));
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    // Every unusable list in one message, so one fix-and-retry is enough.
    if (failures.length > 0) throw new ConfigError(failures.join("; "));
    this.snapshot = this.freeze();
    if (options.watch ?? true) this.watchDirectories();
  }

  /** The lists as of now; a new array after each reload, never mutated. */
  current(): readonly IpListMatcher[] {
    return this.snapshot;
  }

  /** Re-reads every list now (e.g. on SIGHUP); failures keep the old list. */
  async reload(): Promise<void> {
    await Promise.all(this.states.map((state) => this.reloadSerially(state)));
  }

  close(): void {
    this.closed = true;
    for (const state of this.states) clearTimeout(state.timer);
    for (const watcher of this.watchers) watcher.close();
  }

  private freeze(): readonly IpListMatcher[] {
    return Object.freeze(this.states.map((s) => s.matcher));
  }

  private watchDirectories(): void {
    const byDirectory = Map.groupBy(this.states, (s) => dirname(s.path));
    for (const [directory, inDirectory] of byDirectory) {
      const watcher = watch(directory, { persistent: false }, (_event, filename) => {
        const name = filename?.toString();
        for (const state of inDirectory) {
          // No name (some platforms) or a `..data`-style swap: any list here may have changed.
          if (name === undefined || name.startsWith("..") || name === basename(state.path)) {
            this.schedule(state);
          }
        }
      });
      watcher.on("error", (error) => {
        for (const { spec, path } of inDirectory) {
          this.report({ ok: false, name: spec.name, path, error: `watch: ${error.message}` });
        }
      });
      this.watchers.push(watcher);
    }
  }

  private schedule(state: ListState): void {
    if (this.closed) return;
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.reloadSerially(state);
    }, this.debounceMs);
  }

  /** One reload per list at a time: a change during a reload triggers one more afterwards. */
  private reloadSerially(state: ListState): Promise<void> {
    if (state.running) {
      state.again = true;
      return state.running;
    }
    state.running = (async () => {
      do {
        state.again = false;
        await this.reloadOne(state);
      } while (state.again && !this.closed);
      state.running = undefined;
    })();
    return state.running;
  }

  private async reloadOne(state: ListState): Promise<void> {
    const { spec, path } = state;
    try {
      const text = await Bun.file(path).text();
      const hash = Bun.hash(text);
      if (hash === state.contentHash) return;
      const parsed = parseIpList(text);
      if (parsed.cidrs.length === 0 && parsed.badLines > 0) {
        throw new Error(
          `no valid entry (${parsed.badLines} bad lines, first at line ${parsed.firstBad?.line})`,
        );
      }
      if (this.closed) return;
      state.matcher = compileIpList(spec, parsed.cidrs);
      state.contentHash = hash;
      this.snapshot = this.freeze();
      this.report(loadedResult(state, parsed));
    } catch (error) {
      this.report({ ok: false, name: spec.name, path, error: (error as Error).message });
    }
  }
}

function loadAtStart(spec: IpListFileSpec, index: number, report: (result: IpListReload) => void): ListState {
  const path = resolve(spec.path);
  const where = `risk.ip_lists[${index}] "${spec.name}" (${path})`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`${where}: cannot read the list: ${(error as Error).message}`);
  }
  const parsed = parseIpList(text);
  if (parsed.cidrs.length === 0 && parsed.badLines > 0) {
    const first = parsed.firstBad;
    throw new ConfigError(
      `${where}: no valid entry; ${parsed.badLines} bad lines, first at line ${first?.line}: "${first?.text}"`,
    );
  }
  const state: ListState = {
    spec,
    path,
    matcher: compileIpList(spec, parsed.cidrs),
    contentHash: Bun.hash(text),
    timer: undefined,
    running: undefined,
    again: false,
  };
  report(loadedResult(state, parsed));
  return state;
}

function loadedResult(state: ListState, parsed: ParsedIpList): IpListReload {
  return {
    ok: true,
    name: state.spec.name,
    path: state.path,
    entries: state.matcher.entries,
    badLines: parsed.badLines,
    firstBad: parsed.firstBad,
  };
}
