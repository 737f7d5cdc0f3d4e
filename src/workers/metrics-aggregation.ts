/**
 * One `/metrics` for several workers (SPEC §7): every worker's registry as JSON, plus the supervisor's,
 * merged by prom-client's AggregatorRegistry. Counters and histograms are summed (the process answered
 * that many requests); Node's default metrics keep prom-client's own aggregators (memory and CPU
 * summed, event-loop lag averaged, start time omitted). The fleet-view gauges describe the world, not
 * the process, so summing them would be wrong (two workers seeing a healthy cluster are not "2
 * healthy"): they show the worst any worker sees.
 */
import { AggregatorRegistry, type Aggregator } from 'prom-client';
import type { MetricsJson } from './protocol.ts';

/**
 * Gauges that are not summed. `min` where 1 is good (a cluster counts as healthy, the store as up,
 * only when every worker says so), `max` where higher is worse or the workers read one shared value
 * (the most open breaker; the dial and the spool, which every worker reads from the same config and
 * Redis stream). Every other gauge (`cluster_inflight`) is per process and summed.
 */
export const fleetViewAggregators: Readonly<Record<string, Aggregator>> = Object.freeze({
  switchyard_cluster_healthy: 'min',
  switchyard_state_store_up: 'min',
  switchyard_breaker_state: 'max',
  switchyard_dial_percent: 'max',
  switchyard_spool_depth: 'max',
  switchyard_spool_oldest_age_seconds: 'max',
  switchyard_spool_dead_letters: 'max',
});

/** The merged registries' Prometheus text exposition. */
export async function aggregateMetrics(registries: readonly MetricsJson[]): Promise<string> {
  const withPolicy = registries.map((metrics) => metrics.map((metric) => {
    const aggregator = fleetViewAggregators[metric.name];
    return aggregator === undefined ? metric : { ...metric, aggregator };
  }));
  return AggregatorRegistry.aggregate(withPolicy).metrics();
}

/** Content type of `aggregateMetrics`'s text. */
export const aggregatedContentType = AggregatorRegistry.PROMETHEUS_CONTENT_TYPE;
