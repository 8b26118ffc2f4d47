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
import { type CompiledIpList, compileIpList, type IpListSpec } from "../../risk/ip-set.ts";
import { type ParsedIpList, parseIpList } from "../../risk/list-format.ts";
import type { IpListMatcher } from "../../risk/types.ts";

export interface IpListFileSpec extends IpListSpec {
  path: string;
}

export type IpListEvent =
  | {
      type: "loaded";
      list: string;
      path: string;
      entries: number;
      badLines: number;
      firstBad: ParsedIpList["firstBad"];
    }
  | { type: "reload_failed"; list: string; path: string; error: string };

export interface IpListLoaderOptions {
  /** Quiet time after the last file event before reloading (a writer may need several writes). */
  debounceMs?: number;
  /** Watch the files; false loads once (CLI, tests). */
  watch?: boolean;
  /** Loads, reloads and failures, for the log. */
  onEvent?: (event: IpListEvent) => void;
}

export interface IpListLoader {
  /** The lists as of now; a new array after each reload, never mutated. */
  current(): readonly IpListMatcher[];
  /** Re-reads every list now (e.g. on SIGHUP); failures keep the old list. */
  reload(): Promise<void>;
  close(): void;
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

export function loadIpLists(
  specs: readonly IpListFileSpec[],
  options: IpListLoaderOptions = {},
): IpListLoader {
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const emit = options.onEvent ?? (() => {});
  const states = specs.map((spec, index) => loadAtStart(spec, index, emit));
  let snapshot: readonly IpListMatcher[] = Object.freeze(states.map((s) => s.matcher));
  let closed = false;

  const publish = () => {
    snapshot = Object.freeze(states.map((s) => s.matcher));
  };

  const reloadOne = async (state: ListState): Promise<void> => {
    try {
      const text = await Bun.file(state.path).text();
      const hash = Bun.hash(text);
      if (hash === state.contentHash) return;
      const parsed = parseIpList(text);
      if (parsed.cidrs.length === 0 && parsed.badLines > 0) {
        throw new Error(
          `no valid entry (${parsed.badLines} bad lines, first: line ${parsed.firstBad?.line})`,
        );
      }
      if (closed) return;
      state.matcher = compileIpList(state.spec, parsed.cidrs);
      state.contentHash = hash;
      publish();
      emit(loadedEvent(state, parsed));
    } catch (error) {
      emit({
        type: "reload_failed",
        list: state.spec.name,
        path: state.path,
        error: (error as Error).message,
      });
    }
  };

  /** Serialises reloads of one list: a change during a reload triggers one more afterwards. */
  const reloadSerially = (state: ListState): Promise<void> => {
    if (state.running) {
      state.again = true;
      return state.running;
    }
    state.running = (async () => {
      do {
        state.again = false;
        await reloadOne(state);
      } while (state.again && !closed);
      state.running = undefined;
    })();
    return state.running;
  };

  const schedule = (state: ListState) => {
    if (closed) return;
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void reloadSerially(state);
    }, debounceMs);
  };

  const watchers: FSWatcher[] = [];
  if (options.watch ?? true) {
    const byDirectory = Map.groupBy(states, (s) => dirname(s.path));
    for (const [directory, inDirectory] of byDirectory) {
      const watcher = watch(directory, { persistent: false }, (_event, filename) => {
        const name = filename?.toString();
        for (const state of inDirectory) {
          // No name (some platforms) or a `..data`-style swap: any list here may have changed.
          if (name === undefined || name.startsWith("..") || name === basename(state.path)) schedule(state);
        }
      });
      watcher.on("error", (error) => {
        for (const state of inDirectory) {
          emit({
            type: "reload_failed",
            list: state.spec.name,
            path: state.path,
            error: `watch: ${error.message}`,
          });
        }
      });
      watchers.push(watcher);
    }
  }

  return {
    current: () => snapshot,
    reload: async () => {
      await Promise.all(states.map(reloadSerially));
    },
    close: () => {
      closed = true;
      for (const state of states) clearTimeout(state.timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

function loadAtStart(spec: IpListFileSpec, index: number, emit: (event: IpListEvent) => void): ListState {
  const path = resolve(spec.path);
  const where = `risk.ip_lists[${index}] "${spec.name}" (${path})`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`${where}: cannot read the list: ${(error as Error).message}`);
  }
  const parsed = parseIpList(text);
  if (parsed.cidrs.length === 0 && parsed.badLines > 0) {
    const first = parsed.firstBad;
    throw new Error(
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
  emit(loadedEvent(state, parsed));
  return state;
}

function loadedEvent(state: ListState, parsed: ParsedIpList): IpListEvent {
  return {
    type: "loaded",
    list: state.spec.name,
    path: state.path,
    entries: state.matcher.entries,
    badLines: parsed.badLines,
    firstBad: parsed.firstBad,
  };
}
