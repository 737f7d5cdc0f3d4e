/**
 * What the proxy reports about upstream attempts and whom it asks before sending one. Breakers,
 * outlier ejection and passive observations each listen here; the proxy knows none of them.
 */
import type { RuntimeCluster } from '../config/runtime.ts';

/** How an attempt ended, as breakers and observations count it (SPEC §2.6: 4xx are not failures). */
export type AttemptOutcome = 'success' | 'failure' | 'cancelled';

export interface UpstreamSignals {
  /** An attempt is about to be dispatched to this cluster endpoint. */
  attemptStarted(cluster: RuntimeCluster, endpoint: number): void;
  /**
   * The attempt ended. `latencyMs` is the time to response headers (or to the failure);
   * `cancelled` attempts (client went away, gateway chose to retry elsewhere after a 5xx is still a failure) do not count.
   */
  attemptEnded(cluster: RuntimeCluster, endpoint: number, latencyMs: number, outcome: AttemptOutcome): void;
  /** Whether outlier detection currently ejects this endpoint. */
  isEjected(cluster: RuntimeCluster, endpoint: number): boolean;
}

/** Signals that listen to nothing: for tests of the proxy alone. */
export const silentSignals: UpstreamSignals = Object.freeze({
  attemptStarted() {},
  attemptEnded() {},
  isEjected: () => false,
});
