/**
 * A throwaway real Redis Cluster for tests: three masters (/usr/bin/redis-server with
 * --cluster-enabled yes) on free loopback ports, joined by `redis-cli --cluster create`, each
 * with its own temp dir, and optionally replicas of each master. Never a substitute: the commands, redirections and slot checks are
 * Redis's own.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freeLoopbackPort } from "./free-port.ts";

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? "/usr/bin/redis-server";
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? "/usr/bin/redis-cli";
const START_TIMEOUT_MS = 15_000;
/** Redis Cluster's bus listens on the data port + 10000. */
const BUS_OFFSET = 10_000;

export interface ClusterNode {
  port: number;
  child: Subprocess;
}

export interface RedisClusterHandle {
  /** redis+cluster:// URL with every node as a seed. */
  url: string;
  nodes: ClusterNode[];
  /** Runs redis-cli against a node (e.g. ["cluster", "info"]); resolves with stdout. */
  cli(port: number, args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A free port whose bus port (port + 10000) is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeLoopbackPort();
    if (port + BUS_OFFSET > 65_535 || taken.has(port) || taken.has(port + BUS_OFFSET)) continue;
    if (await portIsFree(port + BUS_OFFSET)) return port;
  }
  throw new Error("no free port pair for a cluster node");
}

async function run(command: string[]): Promise<string> {
  const child = Bun.spawn(command, { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0)
    throw new Error(`${command.join(" ")} exited with ${code}: ${stderr.trim()} ${stdout.trim()}`);
  return stdout;
}

export async function startRedisCluster(masters = 3, replicasPerMaster = 0): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-redis-cluster-"));
  const taken = new Set<number>();
  const nodes: ClusterNode[] = [];
  const cli = (port: number, args: string[]) =>
    run([REDIS_CLI, "-h", "127.0.0.1", "-p", String(port), ...args]);
  const stop = async () => {
    for (const node of nodes) node.child.kill("SIGKILL");
    await Promise.all(nodes.map((node) => node.child.exited));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
      const port = await freeClusterPort(taken);
      taken.add(port).add(port + BUS_OFFSET);
      const nodeDir = join(dir, String(port));
      await run(["mkdir", "-p", nodeDir]);
      const child = Bun.spawn(
        [
          REDIS_SERVER,
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(nodeDir, "nodes.conf"),
          "--cluster-node-timeout",
          "2000",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          nodeDir,
          "--logfile",
          "",
          "--loglevel",
          "warning",
        ],
        { stdout: "ignore", stderr: "pipe" },
      );
      nodes.push({ port, child });
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const node of nodes) {
      while ((await cli(node.port, ["ping"]).catch(() => "")).trim() !== "PONG") {
        if (Date.now() > deadline || node.child.exitCode !== null)
          throw new Error(`cluster node ${node.port} did not start`);
        await Bun.sleep(20);
      }
    }
    await run([
      REDIS_CLI,
      "--cluster",
      "create",
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      "--cluster-replicas",
      String(replicasPerMaster),
      "--cluster-yes",
    ]);
    for (const node of nodes) {
      while (!/cluster_state:ok/.test(await cli(node.port, ["cluster", "info"]))) {
        if (Date.now() > deadline) throw new Error("the cluster did not reach cluster_state:ok");
        await Bun.sleep(50);
      }
    }
    // Replicas: in sync with their master before anything relies on them.
    for (const node of nodes.slice(masters)) {
      const linkUp = async () => /master_link_status:up/.test(await cli(node.port, ["info", "replication"]));
      while (!(await linkUp())) {
        if (Date.now() > deadline + START_TIMEOUT_MS) throw new Error(`replica ${node.port} never in sync`);
        await Bun.sleep(50);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `redis+cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(",")}`,
    nodes,
    cli,
    stop,
  };
}
