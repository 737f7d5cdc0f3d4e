/**
 * The Redis key layout of the fleet state (SPEC §6, documented in docs/state.md for external feeders).
 * Every key of one fleet shares one hash tag, so the whole cycle can run as one pipeline even on Redis
 * Cluster, where commands sent together must address a single slot.
 */

/** Names of every key one fleet uses. */
export interface KeyLayout {
  /** The tagged prefix every key starts with, e.g. `{switchyard:}`. */
  readonly base: string;
  /** Sorted set of instance ids, scored by their last publish time (epoch ms): discovery without SCAN. */
  readonly instances: string;
  /** One instance's published view (JSON string, with a TTL). */
  instance(id: string): string;
  /** Present (value `1`) while the cluster is drained. */
  drain(cluster: string): string;
  /** A route's dial override (JSON `{percent, expiresAtMs}`, PX TTL). */
  dial(route: string): string;
  /** A health report fed by an external probe or job (JSON, with a TTL): counts as one more report. */
  external(cluster: string): string;
}

/**
 * Builds the layout for a `state.keyPrefix`. A prefix that already holds a `{tag}` is used as is;
 * otherwise the whole prefix becomes the hash tag: `switchyard:` → `{switchyard:}instance:ID`.
 */
export function keyLayout(prefix: string): KeyLayout {
  const base = hasHashTag(prefix) ? prefix : `{${prefix}}`;
  return Object.freeze({
    base,
    instances: `${base}instances`,
    instance: (id: string) => `${base}instance:${id}`,
    drain: (cluster: string) => `${base}drain:${cluster}`,
    dial: (route: string) => `${base}dial:${route}`,
    external: (cluster: string) => `${base}external:${cluster}`,
  });
}

/** Whether Redis Cluster would hash only part of the key: a `{` followed later by `}` with something between. */
function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open === -1) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}
