/**
 * Endpoint choice inside a cluster: round robin over the endpoints the fleet sees healthy, falling
 * back to all of them when none is (a cluster-level panic: better to try than to refuse).
 */
import type { RuntimeCluster } from '../config/runtime.ts';
import type { ClusterView } from '../state/snapshot.ts';
import type { UpstreamSignals } from './signals.ts';

/** Per-cluster round-robin cursors, indexed by cluster index. */
export class EndpointCursor {
  private next: number[] = [];

  /** Resets cursors after a reload (indices may have moved). */
  reset(clusterCount: number): void {
    this.next = new Array<number>(clusterCount).fill(0);
  }

  /**
   * The endpoint index to try, skipping indices in `exclude` (already tried for this request) and
   * endpoints the fleet sees unhealthy or that are ejected; -1 when every endpoint was tried.
   */
  pick(cluster: RuntimeCluster, view: ClusterView | undefined, exclude: number, ejection: Pick<UpstreamSignals, 'isEjected'>): number {
    const count = cluster.endpoints.length;
    if (count === 1) return (exclude & 1) === 0 ? 0 : -1;
    const start = this.next[cluster.index] ?? 0;
    this.next[cluster.index] = (start + 1) % count;
    let fallback = -1;
    for (let step = 0; step < count; step++) {
      const i = (start + step) % count;
      if ((exclude & (1 << i)) !== 0) continue;
      const healthy = view?.endpoints?.[i]?.healthy !== false;
      if (healthy && !ejection.isEjected(cluster, i)) return i;
      if (fallback === -1) fallback = i;
    }
    return fallback;
  }
}
