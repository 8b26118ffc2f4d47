import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IpListLoader, type IpListReload } from "../../src/adapters/files/ip-list-loader.ts";

let dir: string;
let loader: IpListLoader | undefined;
const events: IpListReload[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-lists-"));
  events.length = 0;
});
afterEach(() => {
  loader?.close();
  loader = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves at the next event of the given type, or fails after a while. */
function nextEvent(type: "loaded" | "reload_failed", timeoutMs = 5000): Promise<IpListReload> {
  const ok = type === "loaded";
  const seen = events.length;
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const event = events.slice(seen).find((e) => e.ok === ok);
      if (event) {
        clearInterval(poll);
        resolvePromise(event);
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`no ${type} event within ${timeoutMs} ms: ${JSON.stringify(events)}`));
      }
    }, 10);
  });
}

const start = (files: Array<{ name: string; path: string; action?: "score" | "deny"; weight?: number }>) => {
  loader = new IpListLoader(
    files.map((f) => ({ weight: 50, action: "score" as const, ...f })),
    { debounceMs: 50, onReload: (e) => events.push(e) },
  );
  return loader;
};

describe("IpListLoader", () => {
  test("loads lists with their name, weight and action", () => {
    const tor = join(dir, "tor.txt");
    const drop = join(dir, "drop.txt");
    writeFileSync(tor, "185.220.101.1\n");
    writeFileSync(drop, "; header\n1.10.16.0/20 ; SBL1\nbad line\n");
    const lists = start([
      { name: "tor", path: tor, weight: 40 },
      { name: "drop", path: drop, action: "deny" },
    ]).current();
    expect(lists.map((l) => [l.name, l.weight, l.action])).toEqual([
      ["tor", 40, "score"],
      ["drop", 50, "deny"],
    ]);
    expect(lists[0]!.has("185.220.101.1")).toBe(true);
    expect(lists[1]!.has("1.10.17.1")).toBe(true);
    expect(lists[1]!.has("185.220.101.1")).toBe(false);
    expect(events).toMatchObject([
      { ok: true, name: "tor", entries: 1, badLines: 0 },
      { ok: true, name: "drop", entries: 1, badLines: 1, firstBad: { line: 3, text: "bad line" } },
    ]);
  });

  test("a missing file stops the start, naming list and path", () => {
    const missing = join(dir, "nope.txt");
    expect(() => start([{ name: "tor", path: missing }])).toThrow(/risk\.ip_lists\[0\] "tor".*nope\.txt/);
  });

  test("a file without a single valid entry stops the start", () => {
    const path = join(dir, "html.txt");
    writeFileSync(path, "<html>\n<body>Not found</body>\n</html>\n");
    expect(() => start([{ name: "x", path }])).toThrow(/no valid entry; 3 bad lines/);
  });

  test("an empty file is an empty list", () => {
    const path = join(dir, "empty.txt");
    writeFileSync(path, "");
    expect(
      start([{ name: "x", path }])
        .current()[0]!
        .has("1.2.3.4"),
    ).toBe(false);
  });

  test("reloads when the file is rewritten in place", async () => {
    const path = join(dir, "list.txt");
    writeFileSync(path, "1.1.1.1\n");
    const first = start([{ name: "l", path }]).current();
    const reloaded = nextEvent("loaded");
    writeFileSync(path, "2.2.2.2\n2001:db8::/32\n");
    expect(await reloaded).toMatchObject({ ok: true, name: "l", entries: 2 });
    const lists = loader!.current();
    expect(lists).not.toBe(first);
    expect(lists[0]!.has("2.2.2.2")).toBe(true);
    expect(lists[0]!.has("2001:db8::5")).toBe(true);
    expect(lists[0]!.has("1.1.1.1")).toBe(false);
    // The old snapshot is untouched: a decision in flight keeps a consistent view.
    expect(first[0]!.has("1.1.1.1")).toBe(true);
  });

  test("reloads when the file is replaced atomically (rename)", async () => {
    const path = join(dir, "list.txt");
    writeFileSync(path, "1.1.1.1\n");
    start([{ name: "l", path }]);
    const reloaded = nextEvent("loaded");
    writeFileSync(join(dir, "list.tmp"), "3.3.3.3\n");
    renameSync(join(dir, "list.tmp"), path);
    await reloaded;
    expect(loader!.current()[0]!.has("3.3.3.3")).toBe(true);
    // The watch survives the inode change.
    const again = nextEvent("loaded");
    writeFileSync(path, "4.4.4.4\n");
    await again;
    expect(loader!.current()[0]!.has("4.4.4.4")).toBe(true);
  });

  test("a broken or vanished file keeps the old list", async () => {
    const path = join(dir, "list.txt");
    writeFileSync(path, "1.1.1.1\n");
    start([{ name: "l", path }]);
    const failed = nextEvent("reload_failed");
    writeFileSync(path, "garbage\nmore garbage\n");
    expect(await failed).toMatchObject({
      ok: false,
      name: "l",
      error: expect.stringContaining("no valid entry"),
    });
    expect(loader!.current()[0]!.has("1.1.1.1")).toBe(true);

    const vanished = nextEvent("reload_failed");
    unlinkSync(path);
    await vanished;
    expect(loader!.current()[0]!.has("1.1.1.1")).toBe(true);

    const back = nextEvent("loaded");
    writeFileSync(path, "5.5.5.5\n");
    await back;
    expect(loader!.current()[0]!.has("5.5.5.5")).toBe(true);
  });

  test("reload() re-reads on demand and skips unchanged content", async () => {
    const path = join(dir, "list.txt");
    writeFileSync(path, "1.1.1.1\n");
    loader = new IpListLoader([{ name: "l", path, weight: 10, action: "score" }], {
      watch: false,
      onReload: (e) => events.push(e),
    });
    const before = loader.current();
    await loader.reload();
    expect(loader.current()).toBe(before);
    writeFileSync(path, "6.6.6.6\n");
    await loader.reload();
    expect(loader.current()[0]!.has("6.6.6.6")).toBe(true);
    expect(events.filter((e) => e.ok)).toHaveLength(2);
  });
});
