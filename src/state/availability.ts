/**
 * Since when each cluster has been continuously available (SPEC §4 failback hold and slow start):
 * available means fleet-healthy (or unknown), not drained and its breaker not open here. A cluster
 * available from the start reports 0, so nothing is held back after a restart or a reload.
 */

interface Availability {
  available: boolean;
  sinceMs: number;
}

/** Tracks availability transitions per cluster across snapshots. */
export class AvailabilityTracker {
  private readonly clusters = new Map<string, Availability>();

  /** Records the cluster's availability now; returns its `availableSinceMs`. */
  update(cluster: string, available: boolean, nowMs: number): number {
    const state = this.clusters.get(cluster);
    if (state === undefined) {
      this.clusters.set(cluster, { available, sinceMs: 0 });
      return 0;
    }
    if (available && !state.available) state.sinceMs = nowMs;
    state.available = available;
    return state.sinceMs;
  }

  /** Keeps the named clusters' history (reload), forgets the rest. */
  retain(clusters: Iterable<string>): void {
    const keep = new Set(clusters);
    for (const name of this.clusters.keys()) if (!keep.has(name)) this.clusters.delete(name);
  }
}
