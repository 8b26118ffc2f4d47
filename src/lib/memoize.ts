/**
 * A bounded memo for pure string functions on the decision path (IP canonicalisation, user-agent
 * hash, geo lookup, trusted-proxy test): a Map that is emptied when it reaches its size, so memory
 * stays bounded whatever the traffic. Only for pure functions of static data: never for anything
 * read from the store (authorization state is read live on every request).
 */
export function memoize<T>(fn: (key: string) => T, maxEntries = 4096): (key: string) => T {
  const cache = new Map<string, T>();
  return (key: string): T => {
    const hit = cache.get(key);
    if (hit !== undefined || cache.has(key)) return hit as T;
    const value = fn(key);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(key, value);
    return value;
  };
}
