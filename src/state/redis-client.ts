/**
 * The ioredis client for the fleet loop, tuned so a Redis outage costs the loop one short timeout and
 * nothing else: commands fail at once while disconnected (no offline queue), are retried at most once,
 * time out quickly, and the connection comes back on its own with capped exponential backoff.
 */
import { Cluster, Redis } from 'ioredis';
import { parseRedisUrl } from './redis-url.ts';
import type { StateLogger } from './logger.ts';

/** Either client kind; the store only uses commands both have. */
export type RedisClient = Redis | Cluster;

/** Timings of the connection, in ms. */
export interface ConnectionTuning {
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Ceiling of the reconnect backoff. */
  readonly maxBackoffMs: number;
  /** How long closing waits for a socket to end before destroying it (shutdown must not hang on a dead Redis). */
  readonly disconnectTimeoutMs: number;
}

const firstBackoffMs = 50;

/** Creates a client that does not connect until `connect()` is called. */
export function createRedisClient(url: string, tuning: ConnectionTuning, logger: StateLogger): RedisClient {
  const target = parseRedisUrl(url);
  const backoff = (attempt: number) => Math.min(firstBackoffMs * 2 ** Math.min(attempt, 16), tuning.maxBackoffMs);
  const perNode = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: tuning.commandTimeoutMs,
    connectTimeout: tuning.connectTimeoutMs,
    disconnectTimeout: tuning.disconnectTimeoutMs,
  };
  const client: RedisClient = target.mode === 'cluster'
    ? new Cluster(target.nodes.map((n) => ({ ...n })), {
      ...target.options,
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: backoff,
      redisOptions: { ...target.options.redisOptions, ...perNode },
    })
    : new Redis({ ...target.options, ...perNode, lazyConnect: true, retryStrategy: backoff, sentinelRetryStrategy: backoff });
  logConnectionErrors(client, logger, target.mode);
  return client;
}

/** Logs each distinct connection error once per outage: a down Redis would otherwise log every retry. */
function logConnectionErrors(client: RedisClient, logger: StateLogger, mode: string): void {
  let last = '';
  client.on('error', (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    logger.warn({ mode, err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'redis connection error');
  });
  client.on('ready', () => {
    last = '';
  });
}
