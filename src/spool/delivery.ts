/**
 * Delivers one spooled request to its pinned cluster (SPEC §5): the stored method, target, headers and
 * body unchanged, plus `x-switchyard-spooled-at` with the original arrival time. Another endpoint of the
 * cluster is tried only when the connection was refused (nothing was written); anything else is left to
 * the replayer's backoff, so the entry stays first in line and order is kept.
 */
import { Pool, type Dispatcher } from 'undici';
import type { RuntimeCluster } from '../config/runtime.ts';
import { classifyUpstreamError } from '../errors.ts';
import type { SpoolEntry } from './entry.ts';

/** How a delivery went, as the replayer acts on it. */
export type DeliveryOutcome =
  /** 2xx: acknowledged and deleted. */
  | { readonly kind: 'delivered'; readonly status: number }
  /** The cluster refused the request itself (3xx, 4xx other than 408/429): dead-lettered. */
  | { readonly kind: 'rejected'; readonly status: number }
  /** 5xx, 408, 429, refused connections, timeouts: the same entry again after a backoff. */
  | { readonly kind: 'retry'; readonly status?: number; readonly error?: string };

/** Header added to every replayed request: ISO time the gateway originally received it. */
export const spooledAtHeader = 'x-switchyard-spooled-at';

/** Statuses that mean "later", not "never". */
const retryLaterStatus = new Set([408, 429]);

/** Connection pools of the replay, one per endpoint; separate from the proxy's so replay never competes with live traffic. */
export class SpoolDelivery {
  private readonly pools = new Map<string, Pool>();
  private readonly next = new Map<string, number>();

  /** Sends `entry` to `cluster`; `signal` aborts it (lease lost, shutdown). Never rejects. */
  async deliver(entry: SpoolEntry, cluster: RuntimeCluster, signal: AbortSignal): Promise<DeliveryOutcome> {
    const headers = [...entry.headers, spooledAtHeader, new Date(entry.arrivedAtMs).toISOString()];
    const { timeouts } = cluster.config;
    const count = cluster.endpoints.length;
    const start = this.next.get(cluster.name) ?? 0;
    this.next.set(cluster.name, (start + 1) % count);
    let last: DeliveryOutcome = { kind: 'retry', error: 'no endpoint' };
    for (let step = 0; step < count; step++) {
      const origin = cluster.endpoints[(start + step) % count];
      try {
        const answer = await this.pool(origin, timeouts.connectMs).request({
          path: entry.url, method: entry.method as Dispatcher.HttpMethod, headers, body: entry.body,
          headersTimeout: timeouts.headersMs, bodyTimeout: timeouts.totalMs,
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeouts.totalMs)]),
        });
        await answer.body.dump();
        return outcomeOf(answer.statusCode);
      } catch (err) {
        last = { kind: 'retry', error: (err as Error).message };
        if (signal.aborted || classifyUpstreamError(err) !== 'connect') return last;
      }
    }
    return last;
  }

  /** Closes every pool. */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.destroy()));
  }

  private pool(origin: string, connectMs: number): Pool {
    const key = `${origin} ${connectMs}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      // One delivery at a time per route: two connections cover a replayer per route plus a spare.
      pool = new Pool(origin, { connections: 2, pipelining: 1, connect: { timeout: connectMs } });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

function outcomeOf(status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status >= 500 || retryLaterStatus.has(status) || status < 200) return { kind: 'retry', status };
  return { kind: 'rejected', status };
}
