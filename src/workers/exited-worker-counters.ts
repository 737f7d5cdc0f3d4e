/**
 * Counters of workers that exited, kept by the supervisor so the merged counters never go down. When
 * a worker dies and is replaced, its process's counts die with it; summed with the others, the total
 * would drop, and Prometheus reads any drop as a reset (a spike in `rate()`). So the last scrape of
 * each worker is remembered, and when it exits its counters and histograms (never gauges: those
 * describe a process that is gone) join a running total that every later scrape adds. What a worker
 * counted after its last scrape is lost with it.
 */
import { AggregatorRegistry } from 'prom-client';
import type { MetricsJson } from './protocol.ts';

/** Metric types whose values only grow while a process lives. */
const monotonicTypes: ReadonlySet<string> = new Set(['counter', 'histogram']);

/** The supervisor's memory of exited workers' counts. */
export class ExitedWorkerCounters {
  private readonly lastScrape = new Map<number, MetricsJson>();
  /** Pids already folded in: a scrape that raced with the exit must not count them again. */
  private readonly exitedPids = new Set<number>();
  private retired: MetricsJson = [];
  /** Folding is asynchronous; scrapes wait for a fold in progress so no count is seen twice or never. */
  private folding: Promise<void> = Promise.resolve();

  /** Remembers a worker process's latest metrics. */
  scraped(pid: number, metrics: MetricsJson): void {
    if (!this.exitedPids.has(pid)) this.lastScrape.set(pid, metrics);
  }

  /** Whether this worker process exited (its counts are in the running total, or lost). */
  hasExited(pid: number): boolean {
    return this.exitedPids.has(pid);
  }

  /** Moves an exited worker's last counts into the running total. */
  exited(pid: number): void {
    this.exitedPids.add(pid);
    const last = this.lastScrape.get(pid);
    this.lastScrape.delete(pid);
    if (last === undefined) return;
    const counters = last.filter((metric) => monotonicTypes.has(String(metric.type)));
    this.folding = this.folding.then(async () => {
      this.retired = await AggregatorRegistry.aggregate([this.retired, counters]).getMetricsAsJSON();
    });
  }

  /** The running total to merge into a scrape (empty while no worker has exited). */
  async totals(): Promise<MetricsJson[]> {
    await this.folding;
    return this.retired.length === 0 ? [] : [this.retired];
  }
}
