/**
 * Runs autocannon in this process (placed on the load CPU) and reduces its run to the numbers the
 * report needs. Latency is recorded in microseconds from autocannon's own per-response timings:
 * its built-in histogram keeps whole milliseconds, too coarse for the latency a proxy adds.
 */
import autocannon, { type Client, type Request } from 'autocannon';
import { createHistogram, performance } from 'node:perf_hooks';
import type { LoadRequest } from './profiles.ts';

/** What one measured run produced. */
export interface RunResult {
  /** 2xx responses per second. */
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx responses plus connection errors (timeouts included). */
  readonly failures: number;
}

/** One autocannon run against one target. */
export interface AutocannonRun {
  readonly url: string;
  readonly requests: readonly LoadRequest[];
  readonly connections: number;
  readonly durationSeconds: number;
  /** Fixed total rate (requests per second), paced evenly; omitted: as fast as the target answers. */
  readonly overallRate?: number;
  /** Shown in front of the progress bar. */
  readonly title: string;
  /** False: no progress bar even on a terminal (a long run that prints its own progress lines). */
  readonly progressBar?: boolean;
  /** Ends the run early; it resolves with what was measured until then. */
  readonly signal?: AbortSignal;
}

const RESPONSE_TIMEOUT_SECONDS = 10;
const MS_PER_SECOND = 1000;
const US_PER_MS = 1000;
/** How far behind its schedule a paced connection may catch up. */
const MAX_CATCH_UP_MS = 100;
const QUOTA_HEADROOM = 1.1;

/** Deals the request sequence out to the connections, so each one cycles through its own share. */
function splitAmongConnections(requests: readonly LoadRequest[], connections: number): Request[][] {
  const shares: Request[][] = Array.from({ length: Math.min(connections, requests.length) }, () => []);
  requests.forEach((request, index) => shares[index % shares.length].push({ ...request, headers: { ...request.headers } }));
  return shares;
}

/**
 * Spreads a connection's requests evenly over each second. autocannon's own `overallRate` lets every
 * connection fire its whole per-second quota back to back at the top of each second, so a "half rate"
 * run is really a saturated burst followed by idle time, and its latency is the saturated latency.
 * Connections start staggered. A connection that fell behind (slow response, timer granularity) sends
 * at once until it is back on schedule, but never makes up for more than MAX_CATCH_UP_MS.
 */
function paceClient(client: Client, index: number, connections: number): void {
  if (!client.rate) return;
  const intervalMs = MS_PER_SECOND / client.rate;
  // autocannon's per-second quota stays as a safety cap, with room for catching up after a late response.
  client.rate = Math.ceil(client.rate * QUOTA_HEADROOM);
  const send = client._doRequest;
  let nextSendMs = performance.now() + (intervalMs * index) / connections;
  client._doRequest = function paced(this: Client, ...args: unknown[]) {
    const nowMs = performance.now();
    nextSendMs = Math.max(nextSendMs, nowMs - MAX_CATCH_UP_MS);
    const waitMs = nextSendMs - nowMs;
    nextSendMs += intervalMs;
    if (waitMs <= 0) return send.apply(this, args);
    setTimeout(() => { if (!this.destroyed) send.apply(this, args); }, waitMs);
  };
}

/** Runs autocannon with a progress bar on stderr (when it is a terminal) and returns the summary. */
export async function runAutocannon(run: AutocannonRun): Promise<RunResult> {
  const connections = run.overallRate === undefined ? run.connections : Math.min(run.connections, run.overallRate);
  const shares = splitAmongConnections(run.requests, connections);
  const latencyUs = createHistogram();
  let clientCount = 0;
  const instance = autocannon({
    url: run.url, connections, duration: run.durationSeconds, timeout: RESPONSE_TIMEOUT_SECONDS,
    overallRate: run.overallRate,
    // Pacing replaces autocannon's coordinated-omission correction, which assumes its bursty schedule.
    ignoreCoordinatedOmission: run.overallRate !== undefined,
    setupClient(client) {
      const index = clientCount++;
      client.setRequests(shares[index % shares.length]);
      if (run.overallRate !== undefined) paceClient(client, index, connections);
    },
  });
  instance.on('response', (_client: Client, statusCode: number, _bytes: number, responseTimeMs: number) => {
    if (statusCode >= 200 && statusCode < 300) latencyUs.record(Math.max(1, Math.round(responseTimeMs * US_PER_MS)));
  });
  run.signal?.addEventListener('abort', () => instance.stop(), { once: true });
  autocannon.track(instance, {
    outputStream: process.stderr, renderProgressBar: run.progressBar !== false && process.stderr.isTTY === true,
    renderResultsTable: false, progressBarString: `${run.title} [:bar] :percent`,
  });
  const result = await instance;
  const measured = latencyUs.count > 0;
  return {
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: measured ? latencyUs.percentile(50) / US_PER_MS : Number.NaN,
    p99Ms: measured ? latencyUs.percentile(99) / US_PER_MS : Number.NaN,
    failures: result.non2xx + result.errors,
  };
}
