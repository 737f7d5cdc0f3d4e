/**
 * Every metric of SPEC §7, defined once, on one registry per Switchyard instance (tests run several
 * instances in one process, so the global registry is never used). Prefix `switchyard_`; labels only
 * take route and cluster names from the config, numeric status codes and fixed result values.
 */
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { RuntimeConfig } from '../config/runtime.ts';
import type { Exchange } from '../proxy/exchange.ts';
import type { RequestObserver, RequestRecord } from '../proxy/gateway.ts';
import { refusalReasons, type RefusalReason } from '../proxy/refusals.ts';
import { registerFleetGauges, type FleetSources } from './fleet-gauges.ts';
import { RequestMetrics } from './request-metrics.ts';
import { CounterFamily, HistogramFamily } from './series.ts';

/** Edge proxy latencies: from a cached local answer (0.5 ms) to the longest upstream timeout worth telling apart (30 s). */
export const durationBucketsSeconds: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]);

export type ReloadOutcome = 'success' | 'failure';

/** The metrics of one Switchyard instance; also the RequestObserver that counts requests. */
export class SwitchyardMetrics implements RequestObserver {
  readonly registry = new Registry();
  private readonly requests: RequestMetrics;
  private readonly reloads: Counter<'result'>;
  private readonly spooled: Counter;
  private readonly refusals: Counter;

  constructor(runtime: RuntimeConfig, sources: FleetSources) {
    const registers = [this.registry];
    this.requests = new RequestMetrics({
      requests: new CounterFamily(this.registry, 'switchyard_requests_total', 'Requests answered, by route, cluster (none: answered by the gateway) and status code'),
      requestDuration: new HistogramFamily(this.registry, 'switchyard_request_duration_seconds', 'Time from request start to the end of the response, seconds', durationBucketsSeconds),
      upstreamDuration: new HistogramFamily(this.registry, 'switchyard_upstream_duration_seconds', 'Time from dispatch to the upstream response headers, seconds', durationBucketsSeconds),
      retries: new Counter({ name: 'switchyard_retries_total', help: 'Cross-cluster retries taken', labelNames: ['route'], registers }),
      panic: new Counter({ name: 'switchyard_panic_total', help: 'Requests decided with health ignored because checks alone would leave no cluster (SPEC §4)', labelNames: ['route'], registers }),
      pinnedUnavailable: new Counter({ name: 'switchyard_pinned_unavailable_total', help: 'Pinned webhooks refused (503) because their cluster was unavailable', labelNames: ['route'], registers }),
    }, runtime);
    this.reloads = new Counter({ name: 'switchyard_config_reloads_total', help: 'Config reloads by result', labelNames: ['result'], registers });
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    this.spooled = new Counter({ name: 'switchyard_spooled_total', help: 'Webhook requests stored in the spool (answered 202)', registers });
    this.refusals = new Counter({
      name: 'switchyard_listener_refusals_total', labelNames: ['reason'], registers,
      help: 'Connections and requests the traffic listener refused before routing: max_connections (dropped at accept), or the error answered',
    });
    for (const reason of refusalReasons) this.refusals.inc({ reason }, 0);
    registerFleetGauges(this.registry, sources);
    collectDefaultMetrics({ register: this.registry });
  }

  /** RequestObserver: counts a finished request. Never throws into the proxy. */
  requestEnded(record: RequestRecord, exchange: Exchange | undefined): void {
    this.requests.observe(record, exchange);
  }

  /** Rebuilds the label children for a newly applied config. */
  apply(runtime: RuntimeConfig): void {
    this.requests.apply(runtime);
  }

  /** Counts a config reload attempt (SIGHUP, API or file change). */
  reloaded(outcome: ReloadOutcome): void {
    this.reloads.inc({ result: outcome });
  }

  /** Counts a pinned webhook refused because its cluster is unavailable (503; spooled ones are not refused). */
  countPinnedUnavailable(route: string): void {
    this.requests.countPinnedUnavailable(route);
  }

  /** Counts a connection or request the traffic listener refused before routing. */
  countRefused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }

  /** Counts a request stored in the webhook spool (SPEC §5). */
  countSpooled(): void {
    this.spooled.inc();
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** Content type of `scrape()`. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
