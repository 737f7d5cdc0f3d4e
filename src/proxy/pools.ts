/**
 * Keep-alive connection pools, one per cluster endpoint (SPEC §2.5). Pools are keyed by cluster and
 * origin and survive reloads when their settings did not change; pools of removed endpoints are
 * closed gracefully (in-flight requests finish first).
 */
import { Pool } from 'undici';
import type { RuntimeCluster, RuntimeConfig } from '../config/runtime.ts';

/** The pools of one cluster, in endpoint order. */
export type ClusterPools = readonly Pool[];

interface PoolEntry {
  readonly pool: Pool;
  readonly settings: string;
}

/** Holds every upstream pool; `sync` after each config load. */
export class PoolRegistry {
  private readonly entries = new Map<string, PoolEntry>();
  /**
   * Per cluster object of every config generation still referenced: a request that started before a
   * reload retries on its own generation's clusters, whose indices mean nothing in the new config.
   */
  private readonly byCluster = new WeakMap<RuntimeCluster, ClusterPools>();

  /** Creates pools for new endpoints, keeps unchanged ones, closes removed ones. */
  sync(runtime: RuntimeConfig): void {
    const keep = new Set<string>();
    for (const cluster of runtime.clusters) this.byCluster.set(cluster, cluster.endpoints.map((origin) => {
      const key = `${cluster.name} ${origin}`;
      const settings = poolSettings(cluster);
      keep.add(key);
      const existing = this.entries.get(key);
      if (existing !== undefined && existing.settings === settings) return existing.pool;
      if (existing !== undefined) void existing.pool.close().catch(() => {});
      const pool = createPool(origin, cluster);
      this.entries.set(key, { pool, settings });
      return pool;
    }));
    for (const [key, entry] of this.entries) {
      if (keep.has(key)) continue;
      this.entries.delete(key);
      void entry.pool.close().catch(() => {});
    }
  }

  /** The pools of a cluster of any synced config generation (closed ones refuse, see errors.ts). */
  pools(cluster: RuntimeCluster): ClusterPools {
    return this.byCluster.get(cluster)!;
  }

  /** Closes every pool, waiting for in-flight requests. */
  async close(): Promise<void> {
    const pools = [...this.entries.values()].map((e) => e.pool);
    this.entries.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }
}

function poolSettings(cluster: RuntimeCluster): string {
  const { connectionsPerEndpoint, timeouts } = cluster.config;
  return `${connectionsPerEndpoint}/${timeouts.connectMs}/${timeouts.headersMs}/${timeouts.totalMs}`;
}

function createPool(origin: string, cluster: RuntimeCluster): Pool {
  const { connectionsPerEndpoint, timeouts } = cluster.config;
  return new Pool(origin, {
    connections: connectionsPerEndpoint,
    pipelining: 1,
    // HTTP/1.1 only, also to https endpoints that offer h2 (undici's default allows it): h2 lowercases
    // header names, which pinned webhooks must reach the primary without, and AttemptBody is read the
    // HTTP/1.1 way (data events), never piped.
    allowH2: false,
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.totalMs,
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
    // Bodies are streamed as they come; undici must not insist that Content-Length matches what a
    // client that lies would send: the client connection is what gets cut in that case.
    strictContentLength: true,
  });
}
