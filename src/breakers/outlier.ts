/**
 * Outlier ejection inside a cluster (Envoy's passive outlier detection, consecutive failures):
 * `consecutiveFailures` failed attempts in a row eject an endpoint for
 * `baseEjectionMs × 2^(times ejected before)`, capped at `maxEjectionFactor × baseEjectionMs`.
 * An endpoint that then serves for a whole capped ejection time starts over at the base time.
 *
 * Never eject everything: at most `floor(endpoints × maxEjectionPercent / 100)` endpoints are
 * ejected at once, but at least one when the cluster has two or more endpoints and the percent is
 * above 0 (as Envoy does: otherwise 10% of a 5-endpoint cluster could never eject anything), and
 * never all of them. A single-endpoint cluster is never ejected from: that endpoint is the cluster,
 * and the cluster's breaker is what takes it out of rotation.
 *
 * `isEjected` runs on the hot path: tables are arrays indexed by cluster index and endpoint.
 */
import type { RuntimeCluster, RuntimeConfig } from '../config/runtime.ts';
import type { AttemptOutcome } from '../proxy/signals.ts';

/** Ejection time never exceeds this many base ejection times (Envoy: max_ejection_time 300 s = 10 × 30 s). */
export const maxEjectionFactor = 10;

/** An ejected endpoint, for status pages. */
export interface EjectedEndpoint {
  readonly cluster: string;
  readonly endpoint: string;
  readonly ejectedUntilMs: number;
  /** Ejections so far, this one included; drives the doubling. */
  readonly ejections: number;
}

/** One cluster's per-endpoint outlier state. */
interface ClusterTable {
  readonly name: string;
  readonly endpoints: readonly string[];
  readonly threshold: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxEjected: number;
  readonly failures: Int32Array;
  readonly ejections: Int32Array;
  /** 0 when not ejected. */
  readonly ejectedUntilMs: Float64Array;
  /** When the last ejection ended; 0 if never ejected. */
  readonly returnedAtMs: Float64Array;
}

/** How many of `count` endpoints may be ejected at once. */
export function maxEjectedEndpoints(count: number, percent: number): number {
  if (count < 2 || percent <= 0) return 0;
  return Math.min(count - 1, Math.max(1, Math.floor((count * percent) / 100)));
}

/** Outlier ejection state of every cluster; time is injectable for tests. */
export class OutlierDetector {
  private tables: ClusterTable[] = [];
  private byName = new Map<string, ClusterTable>();
  private readonly nowMs: () => number;

  constructor(runtime: RuntimeConfig, nowMs: () => number = Date.now) {
    this.nowMs = nowMs;
    this.applyConfig(runtime);
  }

  /** Whether the endpoint is ejected now; O(1), reads the clock only for endpoints ejected before. */
  isEjected(cluster: RuntimeCluster, endpoint: number): boolean {
    const table = this.tableOf(cluster);
    if (table === undefined) return false;
    const i = endpointIn(table, cluster, endpoint);
    if (i === -1 || table.ejectedUntilMs[i] === 0) return false;
    return ejectedAt(table, i, this.nowMs());
  }

  /** Counts an attempt's outcome: failures in a row eject, a success resets the count. */
  attemptEnded(cluster: RuntimeCluster, endpoint: number, outcome: AttemptOutcome): void {
    if (outcome === 'cancelled') return;
    const table = this.tableOf(cluster);
    if (table === undefined || table.maxEjected === 0) return;
    const i = endpointIn(table, cluster, endpoint);
    if (i === -1) return;
    if (outcome === 'success') return succeeded(table, i, this.nowMs);
    const nowMs = this.nowMs();
    // Attempts that started before the ejection and fail now say nothing new.
    if (ejectedAt(table, i, nowMs)) return;
    if (++table.failures[i] < table.threshold) return;
    // At the limit the count stays at the threshold: the next failure tries again.
    if (ejectedCount(table, nowMs) >= table.maxEjected) return;
    eject(table, i, nowMs);
  }

  /** Adopts a new config; endpoints that keep their cluster name and URL keep their state. */
  applyConfig(runtime: RuntimeConfig): void {
    const tables = runtime.clusters.map((cluster) => buildTable(cluster, this.byName.get(cluster.name)));
    this.tables = tables;
    this.byName = new Map(tables.map((t) => [t.name, t]));
  }

  /** Endpoints ejected now, for /api/status. */
  ejected(): EjectedEndpoint[] {
    const nowMs = this.nowMs();
    const out: EjectedEndpoint[] = [];
    for (const t of this.tables) {
      for (let i = 0; i < t.endpoints.length; i++) {
        if (!ejectedAt(t, i, nowMs)) continue;
        out.push({ cluster: t.name, endpoint: t.endpoints[i], ejectedUntilMs: t.ejectedUntilMs[i], ejections: t.ejections[i] });
      }
    }
    return out;
  }

  /** The table of a cluster; a cluster object of an older config generation is found by name. */
  private tableOf(cluster: RuntimeCluster): ClusterTable | undefined {
    const table = this.tables[cluster.index];
    if (table !== undefined && table.name === cluster.name) return table;
    return this.byName.get(cluster.name);
  }
}

function buildTable(cluster: RuntimeCluster, previous: ClusterTable | undefined): ClusterTable {
  const { consecutiveFailures, baseEjectionMs, maxEjectionPercent } = cluster.config.outlier;
  const count = cluster.endpoints.length;
  const table: ClusterTable = {
    name: cluster.name,
    endpoints: cluster.endpoints,
    threshold: consecutiveFailures,
    baseMs: baseEjectionMs,
    maxMs: baseEjectionMs * maxEjectionFactor,
    maxEjected: maxEjectedEndpoints(count, maxEjectionPercent),
    failures: new Int32Array(count),
    ejections: new Int32Array(count),
    ejectedUntilMs: new Float64Array(count),
    returnedAtMs: new Float64Array(count),
  };
  if (previous === undefined) return table;
  for (let i = 0; i < count; i++) {
    const j = previous.endpoints.indexOf(cluster.endpoints[i]);
    if (j === -1) continue;
    table.failures[i] = previous.failures[j];
    table.ejections[i] = previous.ejections[j];
    table.ejectedUntilMs[i] = previous.ejectedUntilMs[j];
    table.returnedAtMs[i] = previous.returnedAtMs[j];
  }
  return table;
}

/** The index of `cluster`'s endpoint in `table` (the same index unless a reload moved it), or -1. */
function endpointIn(table: ClusterTable, cluster: RuntimeCluster, endpoint: number): number {
  const url = cluster.endpoints[endpoint];
  return table.endpoints[endpoint] === url ? endpoint : table.endpoints.indexOf(url);
}

/** Whether endpoint i is ejected at nowMs; an expired ejection is cleared here, lazily. */
function ejectedAt(table: ClusterTable, i: number, nowMs: number): boolean {
  const until = table.ejectedUntilMs[i];
  if (until === 0) return false;
  if (until > nowMs) return true;
  table.ejectedUntilMs[i] = 0;
  table.returnedAtMs[i] = until;
  return false;
}

function succeeded(table: ClusterTable, i: number, nowMs: () => number): void {
  table.failures[i] = 0;
  if (table.ejections[i] === 0) return;
  const now = nowMs();
  if (ejectedAt(table, i, now)) return;
  // Served well for a whole capped ejection time since it came back: the doubling starts over.
  if (now - table.returnedAtMs[i] >= table.maxMs) table.ejections[i] = 0;
}

function ejectedCount(table: ClusterTable, nowMs: number): number {
  let count = 0;
  for (let i = 0; i < table.endpoints.length; i++) if (ejectedAt(table, i, nowMs)) count++;
  return count;
}

function eject(table: ClusterTable, i: number, nowMs: number): void {
  const ms = Math.min(table.baseMs * 2 ** table.ejections[i], table.maxMs);
  table.ejectedUntilMs[i] = nowMs + ms;
  table.ejections[i]++;
  table.failures[i] = 0;
}
