/** cluster-key-slot ships no types: the one function Vigil uses (the same package ioredis routes with). */
declare module "cluster-key-slot" {
  /** The Redis Cluster slot (0–16383) of a key, honouring its {hash tag}. */
  export default function calculateSlot(key: string | Buffer): number;
}
