/**
 * The Redis keys of one route's webhook spool (SPEC §5, §6). They live under the fleet's hash tag
 * (`{switchyard:}spool:ROUTE`), so on Redis Cluster every key of a route sits in one slot and the
 * append, acknowledge and dead-letter scripts can touch the stream and its byte counter atomically.
 */
import { keyLayout } from '../state/keys.ts';

/** The keys of one route's spool. */
export interface SpoolKeys {
  /** Stream of spooled requests, oldest first. */
  readonly stream: string;
  /** Bytes held by the stream: incremented on append, decremented on delivery or dead-lettering. */
  readonly bytes: string;
  /** Stream of requests given up on (too old, or refused by the cluster with a 4xx). */
  readonly dead: string;
  /** The replayer lease: the id of the one instance delivering this route's spool (PX TTL). */
  readonly lease: string;
}

/** The spool keys of a route under a `state.keyPrefix`. */
export function spoolKeys(prefix: string, route: string): SpoolKeys {
  const stream = `${keyLayout(prefix).base}spool:${route}`;
  return Object.freeze({ stream, bytes: `${stream}:bytes`, dead: `${stream}:dead`, lease: `${stream}:replayer` });
}
