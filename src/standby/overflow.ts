/**
 * Overflow with hysteresis (SPEC §5): a route spills new requests to standby when its chosen trade
 * cluster's fleet-wide in-flight count or latency passes the route's `overflow` limits, and takes them
 * back only once both fall below `returnRatio` of the limits, so a cluster hovering at its limit does
 * not make traffic flap. Re-evaluated once per fleet snapshot, not per request.
 */
import type { RuntimeConfig } from '../config/runtime.ts';
import type { FleetSnapshot } from '../state/snapshot.ts';

/** Share of the limits under which an overflowing cluster takes its traffic back. */
export const returnRatio = 0.8;

/** What the decision asks: is this route spilling this trade cluster's traffic to standby? */
export interface OverflowView {
  overflowing(routeIndex: number, clusterIndex: number): boolean;
}

/** Tracks the overflow state of every (route, trade cluster) pair across snapshots. */
export class OverflowTracker implements OverflowView {
  private runtime: RuntimeConfig | undefined;
  private snapshot: FleetSnapshot | undefined;
  private state = new Uint8Array(0);
  private clusterCount = 0;

  /** Brings the state up to date when the snapshot or the config changed; O(1) otherwise. */
  update(runtime: RuntimeConfig, snapshot: FleetSnapshot): void {
    if (snapshot === this.snapshot && runtime === this.runtime) return;
    if (runtime !== this.runtime) {
      this.clusterCount = runtime.clusters.length;
      this.state = new Uint8Array(runtime.routes.length * this.clusterCount);
      this.runtime = runtime;
    }
    this.snapshot = snapshot;
    for (const route of runtime.routes) {
      const limits = route.config.standby?.overflow;
      if (limits === undefined) continue;
      for (const cluster of route.candidates) {
        const view = snapshot.clusters.get(cluster.name);
        const slot = route.index * this.clusterCount + cluster.index;
        const over = view !== undefined && exceeds(view.inflight, view.latencyMs, limits, 1);
        const stillOver = view !== undefined && exceeds(view.inflight, view.latencyMs, limits, returnRatio);
        this.state[slot] = this.state[slot] === 1 ? (stillOver ? 1 : 0) : (over ? 1 : 0);
      }
    }
  }

  overflowing(routeIndex: number, clusterIndex: number): boolean {
    return this.state[routeIndex * this.clusterCount + clusterIndex] === 1;
  }
}

function exceeds(inflight: number, latencyMs: number, limits: { maxInflight?: number; latencyMs?: number }, ratio: number): boolean {
  return (limits.maxInflight !== undefined && inflight > limits.maxInflight * ratio)
    || (limits.latencyMs !== undefined && latencyMs > limits.latencyMs * ratio);
}
