/**
 * `/metrics` of a multi-process gateway: every serving worker's metrics over IPC, the counts of
 * workers that exited, and the supervisor's own, merged (metrics-aggregation.ts). A worker that does
 * not answer in time is left out of that scrape and logged, rather than failing the whole scrape.
 */
import type { Logger } from '../log/logger.ts';
import type { WorkerChannel } from './channel.ts';
import type { ExitedWorkerCounters } from './exited-worker-counters.ts';
import type { MetricsJson } from './protocol.ts';
import type { SupervisorMetrics } from './supervisor-metrics.ts';

/** How long a worker gets to hand over its metrics (scrapes typically time out after 10 s). */
export const metricsTimeoutMs = 3000;

/** The merged Prometheus text of every worker and the supervisor. */
export async function scrapeWorkers(workers: readonly WorkerChannel[], exited: ExitedWorkerCounters,
  supervisor: SupervisorMetrics, logger: Logger): Promise<string> {
  const scraped = await Promise.all(workers.map(async (worker) => {
    try {
      const metrics = await worker.request('switchyard:metrics', {}, metricsTimeoutMs);
      if (worker.pid !== undefined) exited.scraped(worker.pid, metrics);
      return { pid: worker.pid, metrics };
    } catch (err) {
      logger.warn({ worker: worker.slot, err: { message: (err as Error).message } }, 'metrics: a worker did not answer; left out of this scrape');
      return undefined;
    }
  }));
  const totals = await exited.totals();
  // A worker that exited while being scraped is already in the totals.
  const live: MetricsJson[] = scraped.filter((s) => s !== undefined && (s.pid === undefined || !exited.hasExited(s.pid))).map((s) => s!.metrics);
  return supervisor.scrape([...totals, ...live]);
}
