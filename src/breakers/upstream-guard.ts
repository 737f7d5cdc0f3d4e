/**
 * The upstream guard (SPEC §2.6, §2.8): what the proxy reports about its upstream attempts, fanned out
 * to the separate mechanisms that listen to it — cluster circuit breakers, endpoint outlier ejection
 * and the passive observations (latency, errors, in-flight) the fleet state shares. The proxy knows
 * none of them; each keeps its own config and state.
 */
import type { RuntimeCluster, RuntimeConfig } from '../config/runtime.ts';
import type { AttemptOutcome, UpstreamSignals } from '../proxy/signals.ts';
import { ClusterBreakers } from './cluster-breakers.ts';
import { OutlierDetector } from './outlier.ts';

/** Passive observation of upstream attempts, per cluster name (the fleet state's moving averages). */
export interface PassiveObserver {
  /** An attempt started: one more in flight. */
  begin(clusterName: string): void;
  /** An attempt answered or failed: one less in flight, one latency and error sample. */
  end(clusterName: string, latencyMs: number, failed: boolean): void;
  /**
   * The client went away before the upstream answered: one less in flight, no sample (a client's
   * patience is neither the cluster's latency nor its error).
   */
  abandon(clusterName: string): void;
}

export interface UpstreamGuardOptions {
  readonly observer?: PassiveObserver;
  /** Clock of outlier ejection (epoch ms); injectable for tests. */
  readonly nowMs?: () => number;
}

/** Breakers + outlier ejection + passive observations behind the proxy's `UpstreamSignals`. */
export class UpstreamGuard implements UpstreamSignals {
  readonly breakers: ClusterBreakers;
  readonly outliers: OutlierDetector;
  private observer: PassiveObserver | undefined;

  constructor(runtime: RuntimeConfig, options: UpstreamGuardOptions = {}) {
    this.breakers = new ClusterBreakers(runtime);
    this.outliers = new OutlierDetector(runtime, options.nowMs);
    this.observer = options.observer;
  }

  /**
   * Plugs in (or removes) the passive observer; for process assembly, where the fleet state that
   * observes is built after the breakers it publishes.
   */
  observeWith(observer: PassiveObserver | undefined): void {
    this.observer = observer;
  }

  /** UpstreamSignals: an attempt is about to be dispatched. */
  attemptStarted(cluster: RuntimeCluster, endpoint: number): void {
    this.breakers.attemptStarted(cluster, endpoint);
    this.observer?.begin(cluster.name);
  }

  /** UpstreamSignals: an attempt ended; `cancelled` counts toward nothing but in-flight. */
  attemptEnded(cluster: RuntimeCluster, endpoint: number, latencyMs: number, outcome: AttemptOutcome): void {
    this.breakers.attemptEnded(cluster, endpoint, outcome);
    this.outliers.attemptEnded(cluster, endpoint, outcome);
    const observer = this.observer;
    if (observer === undefined) return;
    if (outcome === 'cancelled') observer.abandon(cluster.name);
    else observer.end(cluster.name, latencyMs, outcome === 'failure');
  }

  /** UpstreamSignals: whether outlier ejection currently excludes the endpoint. */
  isEjected(cluster: RuntimeCluster, endpoint: number): boolean {
    return this.outliers.isEjected(cluster, endpoint);
  }

  /** Adopts a reloaded config; breaker and ejection state of unchanged clusters carries over (SPEC §3). */
  applyConfig(runtime: RuntimeConfig): void {
    this.breakers.applyConfig(runtime);
    this.outliers.applyConfig(runtime);
  }

  /** Stops the breakers' timers. */
  close(): void {
    this.breakers.close();
  }
}
