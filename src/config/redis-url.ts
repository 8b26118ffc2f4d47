/**
 * The forms of redis.url (REDIS_URL) the Redis client accepts, checked while the config is
 * validated so `vigil check` and the start refuse the same URLs with one message naming the field.
 * The problem never quotes the URL: it may hold a password.
 */

const SENTINEL = /^redis\+sentinel:\/\/(?:[^@/]*@)?([^/]+)\/([^/]+)(?:\/(\d+))?\/?$/;
const CLUSTER = /^rediss?\+cluster:\/\/(?:[^@/]*@)?([^/]+)\/?$/;

/** Whether each entry of a seed list is host[:port]. */
const seedsParse = (hostList: string): boolean =>
  hostList.split(",").every((entry) => {
    try {
      return new URL(`redis://${entry}`).hostname !== "";
    } catch {
      return false;
    }
  });

/** Why `url` is not a Redis URL Vigil can connect with, or undefined when it is one. */
export function redisUrlProblem(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "redis+sentinel") {
    if (!SENTINEL.test(url)) {
      return "a Sentinel URL must look like redis+sentinel://[user:pass@]host:port,host:port/<master name>[/db]";
    }
    return undefined;
  }
  if (scheme === "redis+cluster" || scheme === "rediss+cluster") {
    const seeds = CLUSTER.exec(url)?.[1];
    if (seeds === undefined || !seedsParse(seeds)) {
      return `a Cluster URL must look like ${scheme}://[user:pass@]host:port,host:port (seed nodes)`;
    }
    return undefined;
  }
  if (scheme !== "redis" && scheme !== "rediss") {
    const got = scheme === undefined ? "no scheme" : `scheme ${scheme}://`;
    return `must start with redis://, rediss://, redis+sentinel:// or redis+cluster:// (e.g. redis://localhost:6379), got ${got}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a valid ${scheme}:// URL (${scheme}://[user:pass@]host[:port][/db])`;
  }
  if (parsed.hostname === "") return `names no host (${scheme}://[user:pass@]host[:port][/db])`;
  if (!/^\/?(\d+)?\/?$/.test(parsed.pathname)) return "the path must be a database number, e.g. /0";
  return undefined;
}
