/**
 * What a soak watches in Switchyard while it runs: resident memory and open file descriptors of its
 * whole process group (with `workers > 1`, the supervisor and every worker, summed) from /proc, and
 * from its admin `/metrics` (prom-client's default metrics, summed over workers by the supervisor)
 * the active handles, heap used and the requests answered.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { processGroupMembers, startCpuMeter } from './cpu.ts';

/** One look at the process group; null where a value could not be read. */
export interface Sample {
  /** Seconds since the soak load started. */
  readonly elapsedSeconds: number;
  /** Taken during the warm-up: shown, left out of the checks. */
  readonly warmUp: boolean;
  /** Resident memory, file-backed pages (the node binary, libraries) included. */
  readonly rssBytes: number | null;
  /**
   * Anonymous resident memory (RssAnon): the heap, buffers and everything else the process allocated.
   * What a leak grows; file-backed pages come and go as the kernel reclaims and refaults them.
   */
  readonly anonBytes: number | null;
  readonly fds: number | null;
  readonly handles: number | null;
  readonly heapUsedBytes: number | null;
  /** Requests Switchyard answered per second since the previous sample (any status). */
  readonly requestsPerSecond: number | null;
  /** Percent of one core the group used since the previous sample. */
  readonly cpuPercent: number | null;
  /** Percent of one core used by processes outside the bench since the previous sample (noise). */
  readonly otherPercent: number | null;
}

/** What is sampled, and when. */
export interface SamplerOptions {
  /** The process group: the Switchyard child's pid (it runs in a group of its own). */
  readonly pgid: number;
  /** Switchyard's admin listener. */
  readonly adminUrl: string;
  readonly intervalSeconds: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Stops sampling early (Switchyard exited, or the load ended). */
  readonly signal: AbortSignal;
}

/** Handle counts, by preference: prom-client's total, else the per-type gauge summed over types. */
const HANDLE_METRICS = ['nodejs_active_handles_total', 'nodejs_active_handles'];
const HEAP_USED_METRIC = 'nodejs_heap_size_used_bytes';
const REQUESTS_METRIC = 'switchyard_requests_total';
const SCRAPE_TIMEOUT_MS = 2000;
const BYTES_PER_KIB = 1024;
const MS_PER_SECOND = 1000;

/**
 * Samples every `intervalSeconds` while the load runs, strictly before `durationSeconds` so the last
 * sample still sees the load, calling `onSample` for each; resolves with every sample taken.
 */
export async function sampleDuringSoak(options: SamplerOptions, onSample: (sample: Sample) => void): Promise<Sample[]> {
  const samples: Sample[] = [];
  const startMs = performance.now();
  let previous = { atMs: startMs, requests: (await scrape(options.adminUrl)).requests };
  let stopCpuMeter = startCpuMeter(options.pgid);
  for (let elapsed = options.intervalSeconds; elapsed < options.durationSeconds; elapsed += options.intervalSeconds) {
    try {
      await sleep(startMs + elapsed * MS_PER_SECOND - performance.now(), undefined, { signal: options.signal });
    } catch {
      break;
    }
    const cpu = stopCpuMeter();
    stopCpuMeter = startCpuMeter(options.pgid);
    const [group, metrics, atMs] = [readGroupMemory(options.pgid), await scrape(options.adminUrl), performance.now()];
    const seconds = (atMs - previous.atMs) / MS_PER_SECOND;
    const sample: Sample = {
      elapsedSeconds: elapsed, warmUp: elapsed <= options.warmupSeconds, ...group, handles: metrics.handles,
      heapUsedBytes: metrics.heapUsedBytes, cpuPercent: cpu.targetPercent, otherPercent: cpu.otherPercent,
      requestsPerSecond: metrics.requests === null || previous.requests === null ? null : (metrics.requests - previous.requests) / seconds,
    };
    previous = { atMs, requests: metrics.requests };
    samples.push(sample);
    onSample(sample);
  }
  return samples;
}

/** Summed VmRSS, RssAnon and open descriptors of every process in the group. */
function readGroupMemory(pgid: number): { rssBytes: number | null; anonBytes: number | null; fds: number | null } {
  const unknown = { rssBytes: null, anonBytes: null, fds: null };
  const members = processGroupMembers(pgid);
  if (members === null || members.length === 0) return unknown;
  let rssBytes = 0;
  let anonBytes = 0;
  let fds = 0;
  try {
    for (const { pid } of members) {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rssBytes += Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * BYTES_PER_KIB;
      anonBytes += Number(/^RssAnon:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * BYTES_PER_KIB;
      fds += readdirSync(`/proc/${pid}/fd`).length;
    }
  } catch {
    return unknown;
  }
  return { rssBytes, anonBytes, fds };
}

/** The metrics a soak reads from `/metrics`; null when absent or the scrape failed. */
async function scrape(adminUrl: string): Promise<{ handles: number | null; heapUsedBytes: number | null; requests: number | null }> {
  let text: string;
  try {
    const response = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`status ${response.status}`);
    text = await response.text();
  } catch {
    return { handles: null, heapUsedBytes: null, requests: null };
  }
  const handles = HANDLE_METRICS.map((name) => metricSum(text, name)).find((value) => value !== null) ?? null;
  // A request counter appears with its first request: before that, none were answered.
  return { handles, heapUsedBytes: metricSum(text, HEAP_USED_METRIC), requests: metricSum(text, REQUESTS_METRIC) ?? 0 };
}

/** The sum of every series of `name` in a Prometheus text exposition, or null when it has none. */
function metricSum(exposition: string, name: string): number | null {
  let sum: number | null = null;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}
