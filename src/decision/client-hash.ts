/**
 * Stable client buckets for dials (SPEC §5): the same client key always lands in the same bucket, so a
 * user stays on one side while the dial holds, and raising a dial from 30 to 40 moves only the buckets
 * between 3000 and 4000.
 */

/** Buckets per 100 %: dials resolve to 0.01 %. */
export const dialBuckets = 10_000;

/** FNV-1a over the route name and the client key, folded into [0, dialBuckets). */
export function clientBucket(routeName: string, clientKey: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < routeName.length; i++) hash = Math.imul(hash ^ routeName.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ 0, 0x01000193);
  for (let i = 0; i < clientKey.length; i++) hash = Math.imul(hash ^ clientKey.charCodeAt(i), 0x01000193);
  // final avalanche (murmur3 fmix32): FNV alone clusters similar keys such as consecutive addresses
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % dialBuckets;
}
