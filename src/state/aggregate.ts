/**
 * The fleet view of one cluster from the reports in hand (SPEC §4, §6), as a pure function.
 * Health is decided per endpoint by quorum: an endpoint is healthy when a strict majority of the
 * reports that have a verdict on it (instances that probe it, plus the external feed) see it healthy;
 * the cluster is healthy when at least one endpoint is. Deciding per endpoint, not per cluster, keeps
 * the rule right when each instance probes only some endpoints (`probers`). Latency and error rate
 * are averages weighted by each instance's request count; in-flight counts add up.
 */
import type { EndpointView } from './snapshot.ts';
import type { ClusterReport, ExternalReport, InstanceReport } from './report.ts';

/** A cluster's fleet view, before drains and availability are added. */
export interface ClusterAggregate {
  readonly healthy: boolean | undefined;
  readonly endpoints: readonly EndpointView[];
  readonly latencyMs: number;
  readonly p99Ms: number;
  readonly errorRate: number;
  readonly inflight: number;
  /** Reports (external feed included) that had a verdict on at least one endpoint. */
  readonly healthReports: number;
}

export interface AggregateInput {
  readonly cluster: string;
  /** The cluster's endpoints, in config order. */
  readonly endpoints: readonly string[];
  /** This instance's report: always fresh, always counted. */
  readonly own: InstanceReport;
  /** Other instances' reports that count this cycle. */
  readonly remote: readonly InstanceReport[];
  readonly external: ExternalReport | undefined;
  /**
   * Isolated (store down for longer than staleAfterMs): where this instance has its own verdict it
   * wins over the frozen votes of others, which can no longer change.
   */
  readonly preferOwnHealth: boolean;
}

/** Aggregates one cluster. */
export function aggregateCluster(input: AggregateInput): ClusterAggregate {
  const own = input.own.clusters[input.cluster];
  const views: ClusterReport[] = [];
  if (own !== undefined) views.push(own);
  for (const report of input.remote) {
    const view = report.clusters[input.cluster];
    if (view !== undefined) views.push(view);
  }
  const endpoints = input.endpoints.map((url): EndpointView => ({ url, healthy: endpointHealth(url, own, views, input) }));
  return {
    healthy: clusterHealth(endpoints),
    endpoints,
    ...weightedAverages(views),
    inflight: views.reduce((total, v) => total + v.inflight, 0),
    healthReports: views.filter((v) => Object.keys(v.endpoints).length > 0).length + (input.external === undefined ? 0 : 1),
  };
}

function endpointHealth(url: string, own: ClusterReport | undefined, views: readonly ClusterReport[], input: AggregateInput): boolean | undefined {
  const ownVerdict = own?.endpoints[url];
  if (input.preferOwnHealth && ownVerdict !== undefined) return ownVerdict;
  let healthy = 0;
  let votes = 0;
  for (const view of views) {
    const verdict = view.endpoints[url];
    if (verdict === undefined) continue;
    votes++;
    if (verdict) healthy++;
  }
  const external = input.external === undefined ? undefined : input.external.endpoints?.[url] ?? input.external.healthy;
  if (external !== undefined) {
    votes++;
    if (external) healthy++;
  }
  return votes === 0 ? undefined : healthy * 2 > votes;
}

/** Healthy when any endpoint is; unknown while any endpoint has no verdict; unhealthy when all are. */
function clusterHealth(endpoints: readonly EndpointView[]): boolean | undefined {
  let unknown = false;
  for (const e of endpoints) {
    if (e.healthy === true) return true;
    if (e.healthy === undefined) unknown = true;
  }
  return unknown ? undefined : false;
}

function weightedAverages(views: readonly ClusterReport[]): { latencyMs: number; p99Ms: number; errorRate: number } {
  let weight = 0;
  let latency = 0;
  let p99 = 0;
  let errors = 0;
  for (const v of views) {
    if (v.requests <= 0) continue;
    weight += v.requests;
    latency += v.latencyMs * v.requests;
    p99 += v.p99Ms * v.requests;
    errors += v.errorRate * v.requests;
  }
  if (weight === 0) return { latencyMs: 0, p99Ms: 0, errorRate: 0 };
  return { latencyMs: latency / weight, p99Ms: p99 / weight, errorRate: errors / weight };
}
