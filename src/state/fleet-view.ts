/**
 * Builds this instance's report and the immutable fleet snapshot from what the loop holds (SPEC §4,
 * §6). Pure apart from the availability tracker it updates, so the rules read in one place.
 */
import type { Config } from '../config/schema.ts';
import type { HealthChecker } from '../health/checker.ts';
import { aggregateCluster, type ClusterAggregate } from './aggregate.ts';
import type { AvailabilityTracker } from './availability.ts';
import type { LocalObservations } from './observations.ts';
import { reportVersion, type ClusterReport, type ExternalReport, type InstanceReport } from './report.ts';
import type { BreakerView, ClusterView, DialOverride, FleetSnapshot } from './snapshot.ts';

/** This instance's view of every configured cluster, as published. */
export function buildOwnReport(id: string, nowMs: number, config: Config, observations: LocalObservations,
  health: HealthChecker, breakers: BreakerView): InstanceReport {
  const clusters: Record<string, ClusterReport> = {};
  for (const name of Object.keys(config.clusters)) {
    const opinion = health.opinion(name);
    const seen = observations.summary(name);
    clusters[name] = {
      ...opinion,
      latencyMs: seen?.latencyMs ?? 0,
      p99Ms: seen?.p99Ms ?? 0,
      errorRate: seen?.errorRate ?? 0,
      requests: seen?.requests ?? 0,
      inflight: seen?.inflight ?? 0,
      breaker: breakers.state(name),
    };
  }
  return { v: reportVersion, id, at: nowMs, clusters };
}

/** Everything a snapshot is built from. */
export interface SnapshotInput {
  readonly config: Config;
  readonly own: InstanceReport;
  /** Other instances' reports that count: fresh ones, or the last-known-good while the store is down. */
  readonly remote: readonly InstanceReport[];
  readonly external: ReadonlyMap<string, ExternalReport>;
  readonly drained: ReadonlySet<string>;
  readonly dialOverrides: ReadonlyMap<string, DialOverride>;
  /** Store down for longer than staleAfterMs: own health verdicts win where this instance has them. */
  readonly isolated: boolean;
  readonly storeUp: boolean;
  readonly nowMs: number;
  readonly breakers: BreakerView;
  readonly availability: AvailabilityTracker;
}

/** The snapshot plus the per-cluster aggregates the status page shows. */
export interface BuiltSnapshot {
  readonly snapshot: FleetSnapshot;
  readonly aggregates: ReadonlyMap<string, ClusterAggregate>;
}

/** Builds a new immutable snapshot. */
export function buildSnapshot(input: SnapshotInput): BuiltSnapshot {
  const clusters = new Map<string, ClusterView>();
  const aggregates = new Map<string, ClusterAggregate>();
  for (const [name, cluster] of Object.entries(input.config.clusters)) {
    const agg = aggregateCluster({
      cluster: name, endpoints: cluster.endpoints, own: input.own, remote: input.remote,
      external: input.external.get(name), preferOwnHealth: input.isolated,
    });
    const drained = input.drained.has(name);
    const available = agg.healthy !== false && !drained && input.breakers.state(name) !== 'open';
    aggregates.set(name, agg);
    clusters.set(name, Object.freeze({
      healthy: agg.healthy, drained, latencyMs: agg.latencyMs, p99Ms: agg.p99Ms, errorRate: agg.errorRate,
      inflight: agg.inflight, availableSinceMs: input.availability.update(name, available, input.nowMs),
      endpoints: Object.freeze(agg.endpoints.map((e) => Object.freeze(e))),
    }));
  }
  const dialOverrides = new Map<string, DialOverride>();
  for (const [route, dial] of input.dialOverrides) if (dial.expiresAtMs > input.nowMs) dialOverrides.set(route, dial);
  const snapshot: FleetSnapshot = Object.freeze({
    builtAtMs: input.nowMs, clusters, dialOverrides, liveInstances: 1 + input.remote.length, storeUp: input.storeUp,
  });
  return { snapshot, aggregates };
}
