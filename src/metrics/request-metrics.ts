/**
 * The per-request metrics of SPEC §7 (requests, durations, retries, panic, pinned-unavailable), fed once
 * per finished request. Series are looked up through nested maps built when the config loads, so the
 * hot path does no string building and creates no closures: one map lookup per label, then plain
 * number updates (see series.ts). Retries, panic and pinned refusals are rare: prom-client children.
 * Pinned refusals are reported by the pinned-webhook responder, not read from the request record.
 */
import type { Counter } from 'prom-client';
import type { RuntimeConfig } from '../config/runtime.ts';
import type { Exchange } from '../proxy/exchange.ts';
import type { RequestRecord } from '../proxy/gateway.ts';
import type { CounterFamily, CounterSeries, HistogramFamily, HistogramSeries } from './series.ts';

/** `route` and `cluster` label value for answers the gateway gave itself (SPEC §7). */
export const noneLabel = 'none';

/** The prom-client metrics this module feeds. */
export interface RequestMetricSet {
  /** Labels route, cluster, code. */
  readonly requests: CounterFamily;
  /** Labels route, cluster. */
  readonly requestDuration: HistogramFamily;
  /** Label cluster. */
  readonly upstreamDuration: HistogramFamily;
  readonly retries: Counter<'route'>;
  readonly panic: Counter<'route'>;
  readonly pinnedUnavailable: Counter<'route'>;
}

interface PairChildren {
  readonly route: string;
  readonly cluster: string;
  readonly duration: HistogramSeries;
  /** By numeric status; filled on first sight of a status (bounded: HTTP status codes). */
  readonly codes: Map<number, CounterSeries>;
}

interface RouteChildren {
  readonly name: string;
  readonly retries: Counter.Internal;
  readonly panic: Counter.Internal;
  readonly pinnedUnavailable: Counter.Internal;
  readonly byCluster: Map<string, PairChildren>;
}

/** Feeds the request metrics; `apply` after each config load. */
export class RequestMetrics {
  private readonly set: RequestMetricSet;
  private routes = new Map<string, RouteChildren>();
  private upstream = new Map<string, HistogramSeries>();

  constructor(set: RequestMetricSet, runtime: RuntimeConfig) {
    this.set = set;
    this.apply(runtime);
  }

  /**
   * Precomputes the children of every configured route and cluster; those of names still configured
   * carry over, so their counters keep counting. Route counters start at 0 so alerts on `increase()`
   * see the series before the first event.
   */
  apply(runtime: RuntimeConfig): void {
    const routes = new Map<string, RouteChildren>();
    const clusterNames = [...runtime.clusters.map((c) => c.name), noneLabel];
    for (const name of [...runtime.routes.map((r) => r.name), noneLabel]) {
      const route = this.routes.get(name) ?? this.routeChildren(name);
      for (const cluster of clusterNames) if (!route.byCluster.has(cluster)) this.addPair(route, cluster);
      routes.set(name, route);
    }
    this.routes = routes;
    const upstream = new Map<string, HistogramSeries>();
    for (const { name } of runtime.clusters) upstream.set(name, this.upstream.get(name) ?? this.upstreamSeries(name));
    this.upstream = upstream;
  }

  /** Counts one finished request (RequestObserver). */
  observe(record: RequestRecord, exchange: Exchange | undefined): void {
    // A request that started on a config since reloaded away may name a route no longer cached.
    const routeName = record.route ?? noneLabel;
    const clusterName = record.cluster ?? noneLabel;
    const route = this.routes.get(routeName) ?? this.adopt(routeName);
    const pair = route.byCluster.get(clusterName) ?? this.addPair(route, clusterName);
    (pair.codes.get(record.status) ?? this.addCode(pair, record.status)).value++;
    pair.duration.observe(record.durationMs / 1000);
    if (record.retries > 0) route.retries.inc(record.retries);
    if (record.panic) route.panic.inc();
    // Only an attempt that got response headers has a latency worth recording.
    if (exchange !== undefined && exchange.status > 0) {
      const cluster = exchange.cluster.name;
      (this.upstream.get(cluster) ?? this.upstreamSeries(cluster)).observe(exchange.upstreamMs / 1000);
    }
  }

  /**
   * A pinned webhook was refused (the spool's responder reports it: it alone knows whether the request
   * was refused or spooled, including after every endpoint refused the connection).
   */
  countPinnedUnavailable(routeName: string): void {
    (this.routes.get(routeName) ?? this.adopt(routeName)).pinnedUnavailable.inc();
  }

  private routeChildren(name: string): RouteChildren {
    const retries = this.set.retries.labels(name);
    const panic = this.set.panic.labels(name);
    const pinnedUnavailable = this.set.pinnedUnavailable.labels(name);
    // Gateway answers without a route never retry, panic or pin: no zero series for them.
    if (name !== noneLabel) for (const counter of [retries, panic, pinnedUnavailable]) counter.inc(0);
    return { name, retries, panic, pinnedUnavailable, byCluster: new Map() };
  }

  private adopt(name: string): RouteChildren {
    const route = this.routeChildren(name);
    this.routes.set(name, route);
    return route;
  }

  private addPair(route: RouteChildren, cluster: string): PairChildren {
    const pair: PairChildren = {
      route: route.name, cluster, duration: this.set.requestDuration.child({ route: route.name, cluster }), codes: new Map(),
    };
    route.byCluster.set(cluster, pair);
    return pair;
  }

  private addCode(pair: PairChildren, status: number): CounterSeries {
    const series = this.set.requests.child({ route: pair.route, cluster: pair.cluster, code: String(status) });
    pair.codes.set(status, series);
    return series;
  }

  /** A cluster that started on a config since reloaded away still gets its latency recorded. */
  private upstreamSeries(cluster: string): HistogramSeries {
    return this.set.upstreamDuration.child({ cluster });
  }
}
