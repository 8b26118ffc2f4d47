/**
 * Throwaway real Redis servers for tests. Never a substitute: this spawns /usr/bin/redis-server on
 * a free loopback port with persistence off and its own temp dir. When REDIS_URL is set, tests
 * share that server instead (use uniquePrefix() so they never collide), except `{ own: true }`
 * handles, which fault tests need because they stop and restart Redis.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createRedisClient, createRedisStores, waitForRedis } from "../../src/adapters/redis/index.ts";
import type { Stores } from "../../src/ports.ts";
import { freeLoopbackPort } from "./free-port.ts";

const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? "/usr/bin/redis-server";
const START_TIMEOUT_MS = 5_000;

export interface RedisHandle {
  url: string;
  port: number;
  /** Stops the server (no-op for a shared REDIS_URL server). */
  stop(): Promise<void>;
  /** Stops, then starts again on the SAME port (only for servers this helper spawned). */
  restart(): Promise<void>;
}

/** The externally provided test server, if any (REDIS_URL). */
export function sharedRedisUrl(): string | undefined {
  const url = process.env.REDIS_URL;
  return url !== undefined && url !== "" ? url : undefined;
}

/** A key prefix no other test run uses, e.g. "vigil-test-3f9a1c2b:". */
export function uniquePrefix(): string {
  const random = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex");
  return `vigil-test-${random}:`;
}

/** A Redis for tests: the shared REDIS_URL one, or a spawned one (always spawned with own: true). */
export async function startRedis(options: { own?: boolean } = {}): Promise<RedisHandle> {
  const shared = sharedRedisUrl();
  if (shared !== undefined && options.own !== true) return sharedHandle(shared);
  return spawnRedis(await freeLoopbackPort());
}

function sharedHandle(url: string): RedisHandle {
  const port = Number(new URL(url).port || 6379);
  return {
    url,
    port,
    stop: async () => {},
    restart: async () => {
      throw new Error("cannot restart the shared REDIS_URL server: use startRedis({ own: true })");
    },
  };
}

async function spawnRedis(port: number): Promise<RedisHandle> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-redis-"));
  let server: Subprocess | undefined = await launch(port, dir);

  const stop = async (): Promise<void> => {
    if (server === undefined) return;
    const running = server;
    server = undefined;
    running.kill("SIGKILL");
    await running.exited;
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      mkdirSync(dir, { recursive: true });
      server = await launch(port, dir);
    },
  };
}

async function launch(port: number, dir: string): Promise<Subprocess> {
  return launchRedisServer(
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--logfile",
      "",
      "--loglevel",
      "warning",
    ],
    port,
  );
}

/** Starts `redis-server argv…` and resolves once it answers PING on `port` (throws if it exits or stays silent). */
export async function launchRedisServer(argv: string[], port: number): Promise<Subprocess> {
  const child = Bun.spawn([REDIS_SERVER, ...argv], { stdout: "ignore", stderr: "pipe" });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const stderr = await new Response(child.stderr).text();
      throw new Error(`redis-server exited with ${child.exitCode}: ${stderr.trim()}`);
    }
    if (await answersPing(port)) return child;
    await Bun.sleep(20);
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms`);
}

/** True when something on 127.0.0.1:port answers an inline PING with +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

/** Stores on a Redis a Vigil process uses, under the default prefix that process uses. */
export async function storesOn(redisUrl: string): Promise<{ stores: Stores; close(): void }> {
  const client = createRedisClient(redisUrl, { commandTimeoutMs: 2_000 });
  await waitForRedis(client, 5_000);
  return { stores: createRedisStores(client), close: () => client.disconnect() };
}
