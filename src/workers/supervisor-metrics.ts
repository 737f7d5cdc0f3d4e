/**
 * The supervisor's own metrics, merged into `/metrics` with the workers' (metrics-aggregation.ts):
 * workers by state, unexpected worker exits, config reloads, and Node's defaults of the supervisor
 * process. Reloads are counted here only: the supervisor validates the file once and pushes the config,
 * and workers applying a pushed config do not count it, so the summed counter says how many reloads
 * the gateway made, not how many processes applied them.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ReloadOutcome } from '../metrics/metrics.ts';
import { aggregateMetrics, aggregatedContentType } from './metrics-aggregation.ts';
import type { MetricsJson } from './protocol.ts';
import { workerStates, type WorkerState } from './supervisor.ts';

/** The supervisor's registry and what it counts. */
export class SupervisorMetrics {
  readonly registry = new Registry();
  readonly contentType = aggregatedContentType;
  private readonly restarts: Counter;
  private readonly reloads: Counter<'result'>;

  /** `states` is read at scrape time. */
  constructor(states: () => Record<WorkerState, number>) {
    const registers = [this.registry];
    new Gauge({
      name: 'switchyard_workers', help: 'Worker processes by state: starting, ready, restarting (waiting for its backoff), stopping',
      labelNames: ['state'], registers,
      collect() {
        const counts = states();
        for (const state of workerStates) this.set({ state }, counts[state]);
      },
    });
    this.restarts = new Counter({ name: 'switchyard_worker_restarts_total', help: 'Worker processes that exited unexpectedly and were restarted', registers });
    this.reloads = new Counter({ name: 'switchyard_config_reloads_total', help: 'Config reloads by result', labelNames: ['result'], registers });
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts a worker restart. */
  restarted(): void {
    this.restarts.inc();
  }

  /** Counts a config reload attempt (SIGHUP, API or file change). */
  reloaded(outcome: ReloadOutcome): void {
    this.reloads.inc({ result: outcome });
  }

  /** The Prometheus text of the workers' metrics merged with the supervisor's. */
  async scrape(workers: readonly MetricsJson[]): Promise<string> {
    return aggregateMetrics([...workers, await this.registry.getMetricsAsJSON()]);
  }
}
