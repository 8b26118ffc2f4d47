/**
 * Holds the live policy and reloads it when the file changes (or on SIGHUP, wired in server.ts).
 * A file that fails to parse or compile is refused: the error is logged and counted, and the
 * previous policy keeps serving. At start a bad file is fatal (the caller lets it throw). An empty
 * file is a bad file: a truncated write must not become "no rules, deny everything".
 */
import { type FSWatcher, readFileSync, watch } from "node:fs";
import { basename, dirname } from "node:path";
import { type CompileOptions, compilePolicyText, type Policy, PolicyError } from "../../policy/compile.ts";
import { SAMPLE_POLICY } from "../../policy/sample-policy.ts";

/**
 * Reads and compiles the policy file (the built-in sample when no path is set): the one reading
 * path for the start, hot reload and `vigil check`. Every fault is a PolicyError naming the file,
 * so the start prints one line instead of a stack trace.
 */
export function readPolicyFile(path: string | undefined, options: CompileOptions): Policy {
  if (path === undefined) return compilePolicyText(SAMPLE_POLICY, options);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory"
            : (error as Error).message;
    throw new PolicyError(`policy ${path}: ${why} (VIGIL_POLICY / policy_path)`);
  }
  try {
    return compilePolicyText(text, options);
  } catch (error) {
    throw new PolicyError(`policy ${path}: ${(error as Error).message}`);
  }
}

export interface PolicySourceEvents {
  onReload(result: { ok: true; version: string } | { ok: false; error: string }): void;
}

export class PolicySource {
  private policy: Policy;
  private watcher: FSWatcher | undefined;
  private debounce: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** Policy file; undefined = the built-in sample policy (never reloaded). */
    readonly path: string | undefined,
    private readonly options: CompileOptions,
    private readonly events: PolicySourceEvents,
    /** The file's policy already compiled at start (main.ts), so it is not compiled twice. */
    initial?: Policy,
  ) {
    this.policy = initial ?? readPolicyFile(path, options);
    events.onReload({ ok: true, version: this.policy.version });
  }

  current(): Policy {
    return this.policy;
  }

  /** Re-reads the file; true when the new policy is serving. */
  reload(): boolean {
    if (!this.path) return false;
    try {
      const next = readPolicyFile(this.path, this.options);
      const changed = next.version !== this.policy.version;
      this.policy = next;
      if (changed) this.events.onReload({ ok: true, version: next.version });
      return true;
    } catch (error) {
      this.events.onReload({ ok: false, error: (error as Error).message });
      return false;
    }
  }

  /**
   * Watches the file's directory rather than the file: editors and Kubernetes ConfigMaps replace
   * files (rename, symlink swap), which a watch on the old inode would miss.
   */
  watch(): void {
    if (!this.path || this.watcher) return;
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), (_event, file) => {
      if (file !== null && file !== name && !file.startsWith("..")) return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload(), 100);
    });
  }

  close(): void {
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
