/**
 * The circuit breakers of this instance, one per cluster (SPEC §2.6, §4). Decisions read `state()`
 * synchronously; the upstream guard feeds attempt outcomes in. A reload keeps the breakers of
 * clusters whose name did not change (SPEC §3), so an open breaker stays open across a config edit.
 */
import type { RuntimeCluster, RuntimeConfig } from '../config/runtime.ts';
import type { AttemptOutcome } from '../proxy/signals.ts';
import type { BreakerState, BreakerView } from '../state/snapshot.ts';
import { ClusterBreaker, type BreakerStatus } from './cluster-breaker.ts';

export type { BreakerStatus } from './cluster-breaker.ts';

/** Told about every lifecycle transition: closed → open → half-open → closed | open. */
export type BreakerListener = (cluster: string, state: BreakerState) => void;

/**
 * A trial that has not reported its end this long after the cluster's total timeout is taken as lost,
 * so that a missing report cannot keep a cluster out of rotation forever.
 */
const trialGraceMs = 1000;

/** Every cluster's breaker; implements the decision's `BreakerView`. */
export class ClusterBreakers implements BreakerView {
  private byName = new Map<string, ClusterBreaker>();
  private readonly listeners: BreakerListener[] = [];

  constructor(runtime: RuntimeConfig) {
    this.applyConfig(runtime);
  }

  /** The state decisions act on: 'open' makes a cluster ineligible; unknown clusters read 'closed'. */
  state(cluster: string): BreakerState {
    return this.byName.get(cluster)?.state() ?? 'closed';
  }

  /** An attempt to this cluster starts (it may become a half-open trial). */
  attemptStarted(cluster: RuntimeCluster, endpoint: number): void {
    this.byName.get(cluster.name)?.attemptStarted(endpoint);
  }

  /** An attempt to this cluster ended; `cancelled` counts as nothing. */
  attemptEnded(cluster: RuntimeCluster, endpoint: number, outcome: AttemptOutcome): void {
    this.byName.get(cluster.name)?.attemptEnded(endpoint, outcome);
  }

  /**
   * Adopts a new config: breakers of clusters whose name did not change keep their state (rebuilt
   * with the new settings when those changed), new clusters start closed, removed ones shut down.
   */
  applyConfig(runtime: RuntimeConfig): void {
    const next = new Map<string, ClusterBreaker>();
    for (const cluster of runtime.clusters) {
      const current = this.byName.get(cluster.name);
      const { breaker, timeouts } = cluster.config;
      if (current !== undefined && current.sameConfig(breaker)) {
        next.set(cluster.name, current);
        continue;
      }
      const notify = (state: BreakerState) => this.notify(cluster.name, state);
      next.set(cluster.name, new ClusterBreaker(cluster.name, breaker, timeouts.totalMs + trialGraceMs, notify, current));
    }
    for (const [name, breaker] of this.byName) {
      if (next.get(name) !== breaker) breaker.shutdown();
    }
    this.byName = next;
  }

  /** Registers a listener (metrics, fleet publishing); returns its removal. */
  onStateChange(listener: BreakerListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i !== -1) this.listeners.splice(i, 1);
    };
  }

  /** Every breaker's status, by cluster name (for /api/status). */
  states(): Record<string, BreakerStatus> {
    const out: Record<string, BreakerStatus> = {};
    for (const [name, breaker] of this.byName) out[name] = breaker.status();
    return out;
  }

  /** Shuts every breaker down (timers included). */
  close(): void {
    for (const breaker of this.byName.values()) breaker.shutdown();
    this.byName.clear();
  }

  /** Listeners run inside opossum's settle path: one that throws must not be counted as a failure. */
  private notify(cluster: string, state: BreakerState): void {
    for (const listener of this.listeners) {
      try {
        listener(cluster, state);
      } catch (error) {
        process.emitWarning(`breaker listener failed on ${cluster} → ${state}: ${String(error)}`);
      }
    }
  }
}
