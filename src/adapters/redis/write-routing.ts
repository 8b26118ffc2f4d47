/**
 * Where a security write's confirmation runs (write-confirmation.ts needs the very connection
 * that carried the write, and a marker key on the same node).
 *
 * - One Redis (standalone, Sentinel): the one write connection, one marker key.
 * - Cluster: the write connection of the master that owns the key's slot, as the Cluster client's
 *   own slot map names it (the Cluster client sends the write on that same node connection), and
 *   a marker key carrying the key's hash tag, so it lives in the same slot. If the slot moved
 *   between the write and the marker, the marker SET on the old node answers MOVED and the write
 *   is not confirmed.
 */
import calculateSlot from "cluster-key-slot";
import { Cluster, type default as Redis } from "ioredis";

/** The hash tag of a key (text between the first `{` and the next `}`), if it has one. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open === -1) return undefined;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/**
 * The marker key confirmed with WAIT for writes to `key`, in `key`'s slot: tagged with `key`'s
 * hash tag, or with the whole key when it has none (a key without a tag hashes as a whole).
 */
export function markerKeyFor(prefix: string, key: string): string {
  const tag = hashTagOf(key) ?? (key.includes("}") ? undefined : key);
  return tag === undefined ? `${prefix}write-confirmation` : `${prefix}{${tag}}:write-confirmation`;
}

/** The node connection a Cluster client uses for `key`'s slot, or undefined while it knows none. */
export function clusterNodeFor(cluster: Cluster, key: string): Redis | undefined {
  const owner = cluster.slots[calculateSlot(key)]?.[0];
  if (owner === undefined) return undefined;
  return cluster.nodes("master").find((node) => `${node.options.host}:${node.options.port}` === owner);
}

/** The connection that carries writes to `key` on `writeClient` (see above). */
export function writeConnectionFor(writeClient: Redis | Cluster): (key: string) => Redis | undefined {
  if (writeClient instanceof Cluster) return (key) => clusterNodeFor(writeClient, key);
  return () => writeClient;
}
