/**
 * The fleet snapshot: the only state the request path reads (SPEC §6). Background loops build a new
 * immutable snapshot from the fleet's published views and this instance's own observations, then swap
 * one reference; decisions read whichever snapshot was current when the request arrived.
 */

/** Breaker state as SPEC §7 exports it: 0 closed, 1 half-open, 2 open. */
export type BreakerState = 'closed' | 'half-open' | 'open';

/** Fleet health of one endpoint of a cluster, by the same quorum rule as the cluster (SPEC §4). */
export interface EndpointView {
  readonly url: string;
  /** undefined: no fresh probe verdict anywhere in the fleet (treated as healthy). */
  readonly healthy: boolean | undefined;
}

/** What the fleet knows of one cluster. */
export interface ClusterView {
  /** Fleet health by quorum of fresh reports; this instance's view without reports; undefined with no view at all. */
  readonly healthy: boolean | undefined;
  /** Drained by an admin, fleet-wide. */
  readonly drained: boolean;
  /** Moving average of upstream latency (time to response headers), ms; 0 when nothing was observed. */
  readonly latencyMs: number;
  /** p99 estimate of upstream latency, ms. */
  readonly p99Ms: number;
  /** Share of failed upstream attempts, 0..1. */
  readonly errorRate: number;
  /** In-flight requests to the cluster, summed over the fleet. */
  readonly inflight: number;
  /**
   * Since when (epoch ms) the cluster has been continuously available (healthy, not drained, breaker not
   * open on this instance). 0 means "since before we started": no failback hold applies.
   */
  readonly availableSinceMs: number;
  /**
   * Per-endpoint fleet health, in config order (index i is the cluster's endpoints[i]), so the proxy can
   * skip endpoints the fleet sees unhealthy. Absent in hand-built views: every endpoint counts as healthy.
   */
  readonly endpoints?: readonly EndpointView[];
}

/** A fleet-wide dial override set through the admin API (SPEC §5). */
export interface DialOverride {
  readonly percent: number;
  readonly expiresAtMs: number;
}

export interface FleetSnapshot {
  /** When the snapshot was built (epoch ms). */
  readonly builtAtMs: number;
  /** Per cluster name; a cluster missing here has no observations yet. */
  readonly clusters: ReadonlyMap<string, ClusterView>;
  /** Per route name. */
  readonly dialOverrides: ReadonlyMap<string, DialOverride>;
  /** Instances that reported within staleAfterMs (this one included). */
  readonly liveInstances: number;
  /** Whether the shared store answered on the last cycle (always true for the in-memory store). */
  readonly storeUp: boolean;
}

/** The local circuit breakers, read synchronously by decisions. */
export interface BreakerView {
  state(cluster: string): BreakerState;
}

/** A snapshot with no observations: every cluster healthy by default (SPEC §4, "with no view at all"). */
export const emptySnapshot: FleetSnapshot = Object.freeze({
  builtAtMs: 0,
  clusters: new Map(),
  dialOverrides: new Map(),
  liveInstances: 1,
  storeUp: true,
});

/** Breakers that are all closed: for offline explain and tests. */
export const closedBreakers: BreakerView = Object.freeze({ state: () => 'closed' as const });
