/**
 * A real Redis Sentinel set for failover tests: one primary, one replica and three sentinels
 * (`redis-server` and `redis-server --sentinel`), each its own process on a free loopback port
 * with its own temp dir. Sentinel timings are tuned low (down-after 1 s) so a failover completes
 * in a few seconds. Every process is killed by stop().
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import Redis from "ioredis";
import { freeLoopbackPort } from "./free-port.ts";
import { launchRedisServer } from "./redis-server.ts";

export interface RedisNode {
  port: number;
  /** kill -9 (no shutdown, nothing flushed). */
  kill(): Promise<void>;
  /** kill -9 and remove its directory: the end of the node. */
  stop(): Promise<void>;
  /** Starts the process again on the same port with the same arguments, plus `extra` (after kill()). */
  start(extra?: readonly string[]): Promise<void>;
  /** SIGSTOP / SIGCONT: the process keeps its sockets open but does nothing. */
  pause(): void;
  resume(): void;
  /** A short-lived client to this node (caller quits it). */
  connect(): Redis;
}

/** Spawns `redis-server <args>` on a free port and waits until it answers PING. */
export async function spawnRedisNode(args: readonly string[], port?: number): Promise<RedisNode> {
  const nodePort = port ?? (await freeLoopbackPort());
  const dir = mkdtempSync(join(tmpdir(), "vigil-redis-node-"));
  const argv = [...args, "--port", String(nodePort), "--bind", "127.0.0.1", "--dir", dir, "--logfile", ""];
  let child: Subprocess | undefined = await launchRedisServer(argv, nodePort);
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    running.kill("SIGKILL");
    await running.exited;
  };
  return {
    port: nodePort,
    kill,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async start(extra = []) {
      if (child === undefined) child = await launchRedisServer([...argv, ...extra], nodePort);
    },
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    connect: () =>
      new Redis({ host: "127.0.0.1", port: nodePort, lazyConnect: false, maxRetriesPerRequest: 1 }),
  };
}

/** Data-node arguments: no persistence, quiet, a replica's full sync starts at once (default: after 5 s). */
export const DATA_NODE_ARGS = [
  "--save",
  "",
  "--appendonly",
  "no",
  "--loglevel",
  "warning",
  "--repl-diskless-sync-delay",
  "0",
];

export interface SentinelSetOptions {
  /** Extra arguments for both data nodes (e.g. --min-replicas-to-write 1). */
  dataArgs?: readonly string[];
  /** sentinel down-after-milliseconds (default 1000). */
  downAfterMs?: number;
}

export interface SentinelSet {
  masterName: string;
  /** redis+sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/<master> */
  url: string;
  /** The two data nodes, by port; which one is primary changes with failovers. */
  nodes: RedisNode[];
  sentinels: RedisNode[];
  /** The primary's port as the sentinels report it. */
  primaryPort(): Promise<number>;
  /** The node the sentinels call primary, and the other one. */
  roles(): Promise<{ primary: RedisNode; replica: RedisNode }>;
  /** Resolves when the sentinels report a primary other than `oldPort` (rejects after timeoutMs). */
  waitForNewPrimary(oldPort: number, timeoutMs: number): Promise<number>;
  /** Resolves when `node` is a replica whose link to the primary is up (after a resync). */
  waitForReplicaInSync(node: RedisNode, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSentinelSet(options: SentinelSetOptions = {}): Promise<SentinelSet> {
  const masterName = "vigil-test";
  const dataArgs = [...DATA_NODE_ARGS, ...(options.dataArgs ?? [])];
  const primary = await spawnRedisNode(dataArgs);
  const replica = await spawnRedisNode([...dataArgs, "--replicaof", "127.0.0.1", String(primary.port)]);
  const nodes = [primary, replica];
  const sentinels: RedisNode[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = mkdtempSync(join(tmpdir(), "vigil-sentinel-"));
    dirs.push(dir);
    const file = join(dir, "sentinel.conf");
    // Sentinel rewrites its own config file: it must be writable and its own.
    writeFileSync(
      file,
      [
        `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1_000}`,
        // A sentinel waits twice this before it starts another failover of the same master, and
        // the tests run two in a row.
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel parallel-syncs ${masterName} 1`,
        "",
      ].join("\n"),
    );
    sentinels.push(await spawnRedisNode([file, "--sentinel", "--loglevel", "warning"]));
  }
  const ask = async <T>(command: string[], parse: (reply: unknown) => T): Promise<T> => {
    for (const sentinel of sentinels) {
      const client = sentinel.connect();
      client.on("error", () => {});
      try {
        return parse(await client.call(command[0]!, ...command.slice(1)));
      } catch {
        // Try the next sentinel.
      } finally {
        client.disconnect();
      }
    }
    throw new Error(`no sentinel answered ${command.join(" ")}`);
  };
  const primaryPort = () =>
    ask(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName], (reply) => Number((reply as string[])[1]));
  const byPort = (port: number) => nodes.find((node) => node.port === port)!;

  const set: SentinelSet = {
    masterName,
    url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(",")}/${masterName}`,
    nodes,
    sentinels,
    primaryPort,
    async roles() {
      const port = await primaryPort();
      return { primary: byPort(port), replica: nodes.find((node) => node.port !== port)! };
    },
    async waitForNewPrimary(oldPort, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const port = await primaryPort().catch(() => oldPort);
        if (port !== oldPort) return port;
        await Bun.sleep(50);
      }
      throw new Error(`no failover away from ${oldPort} within ${timeoutMs} ms`);
    },
    async waitForReplicaInSync(node, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const client = node.connect();
        client.on("error", () => {});
        const info = await client.info("replication").catch(() => "");
        client.disconnect();
        if (/role:slave/.test(info) && /master_link_status:up/.test(info)) return;
        await Bun.sleep(100);
      }
      throw new Error(`node ${node.port} did not become an in-sync replica within ${timeoutMs} ms`);
    },
    async stop() {
      await Promise.all([...sentinels, ...nodes].map((node) => node.stop()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitForSentinelsToSee(set);
  return set;
}

/** The sentinels must know the replica and each other before a failover can be agreed. */
async function waitForSentinelsToSee(set: SentinelSet): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    let ready = true;
    for (const sentinel of set.sentinels) {
      const client = sentinel.connect();
      client.on("error", () => {});
      const master = (await client.call("SENTINEL", "MASTER", set.masterName).catch(() => [])) as string[];
      client.disconnect();
      const field = (name: string) => Number(master[master.indexOf(name) + 1] ?? 0);
      if (field("num-slaves") < 1 || field("num-other-sentinels") < 2) ready = false;
    }
    if (ready) return;
    await Bun.sleep(100);
  }
  throw new Error("the sentinels did not discover the replica and each other within 15 s");
}
