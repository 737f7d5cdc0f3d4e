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
  /**
   * Seconds sent before `durationSeconds` on the same connections and not measured (default 0). A Node
   * target recompiles its hot functions for a second or two after its connections change (see
   * `settleSeconds` in session.ts); a latency run measures the settled gateway, not that.
   */
  readonly settleSeconds?: number;
  /** Told of every measured 2xx response: when its request was sent (epoch ms) and its latency. */
  readonly onResponse?: (sentAtMs: number, latencyMs: number) => void;
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
 * When a paced run's schedule begins: once every client is set up. autocannon builds each client's
 * request buffers synchronously and lets it send its first request while the next ones are still being
 * built (about 100 ms for 50 clients of the GET profile), so a schedule begun at set-up would find the
 * first clients that far behind and have them catch up in a burst: measured on 2026-12-07, that burst
 * alone put about 1 % of a 10-second run's requests into the tail, more for an expensive target.
 */
interface PacedStart {
  originMs: number | undefined;
}

/**
 * Spreads a connection's requests evenly over each second. autocannon's own `overallRate` lets every
 * connection fire its whole per-second quota back to back at the top of each second, so a "half rate"
 * run is really a saturated burst followed by idle time, and its latency is the saturated latency.
 * Connections start staggered from the run's common origin. A connection that fell behind (slow
 * response, timer granularity) sends at once until it is back on schedule, but never makes up for
 * more than MAX_CATCH_UP_MS.
 */
function paceClient(client: Client, index: number, connections: number, start: PacedStart): void {
  if (!client.rate) return;
  const intervalMs = MS_PER_SECOND / client.rate;
  // autocannon's per-second quota stays as a safety cap, with room for catching up after a late response.
  client.rate = Math.ceil(client.rate * QUOTA_HEADROOM);
  const send = client._doRequest;
  let nextSendMs = Number.NaN;
  client._doRequest = function paced(this: Client, ...args: unknown[]) {
    // Called during set-up (the first request): wait for the schedule, which begins right after.
    if (start.originMs === undefined) return void setImmediate(() => paced.apply(this, args));
    const nowMs = performance.now();
    if (Number.isNaN(nextSendMs)) nextSendMs = start.originMs + (intervalMs * index) / connections;
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
  const pacedStart: PacedStart = { originMs: undefined };
  const settleSeconds = run.settleSeconds ?? 0;
  let measuredFromMs = Number.POSITIVE_INFINITY;
  let measured2xx = 0;
  const instance = autocannon({
    url: run.url, connections, duration: run.durationSeconds + settleSeconds, timeout: RESPONSE_TIMEOUT_SECONDS,
    overallRate: run.overallRate,
    // Pacing replaces autocannon's coordinated-omission correction, which assumes its bursty schedule.
    ignoreCoordinatedOmission: run.overallRate !== undefined,
    setupClient(client) {
      const index = clientCount++;
      client.setRequests(shares[index % shares.length]);
      if (run.overallRate !== undefined) paceClient(client, index, connections, pacedStart);
    },
  });
  pacedStart.originMs = performance.now();
  measuredFromMs = pacedStart.originMs + settleSeconds * MS_PER_SECOND;
  instance.on('response', (_client: Client, statusCode: number, _bytes: number, responseTimeMs: number) => {
    if (statusCode < 200 || statusCode >= 300) return;
    // Only requests sent after the settling time count (the response time reaches back to the send).
    const sentAt = performance.now() - responseTimeMs;
    if (settleSeconds > 0 && sentAt < measuredFromMs) return;
    measured2xx++;
    run.onResponse?.(performance.timeOrigin + sentAt, responseTimeMs);
    latencyUs.record(Math.max(1, Math.round(responseTimeMs * US_PER_MS)));
  });
  run.signal?.addEventListener('abort', () => instance.stop(), { once: true });
  autocannon.track(instance, {
    outputStream: process.stderr, renderProgressBar: run.progressBar !== false && process.stderr.isTTY === true,
    renderResultsTable: false, progressBarString: `${run.title} [:bar] :percent`,
  });
  const result = await instance;
  const endedMs = performance.now();
  const measured = latencyUs.count > 0;
  const measuredSeconds = (endedMs - measuredFromMs) / MS_PER_SECOND;
  return {
    requestsPerSecond: settleSeconds === 0 ? result['2xx'] / result.duration : measured2xx / Math.max(measuredSeconds, 1e-3),
    p50Ms: measured ? latencyUs.percentile(50) / US_PER_MS : Number.NaN,
    p99Ms: measured ? latencyUs.percentile(99) / US_PER_MS : Number.NaN,
    failures: result.non2xx + result.errors,
  };
}
