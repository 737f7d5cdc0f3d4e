/**
 * Passive observations of real proxied traffic (SPEC §2.8, §4): per cluster, in-flight count, an EWMA
 * of upstream latency, the error rate and a p99 estimate over a sliding window. The proxy calls the
 * per-cluster handle on every attempt, so `begin`/`end` only bump preallocated counters: no allocation,
 * no clock read, no lookup. The fleet loop rotates the window with `tick()`.
 */

/** The per-cluster handle the proxy keeps: cheap enough for every upstream attempt. */
export interface ClusterObservations {
  /** An attempt to the cluster started. */
  begin(): void;
  /** The attempt ended after `latencyMs`; `failed` as breakers count failures (5xx, timeout, connect error). */
  end(latencyMs: number, failed: boolean): void;
  /** The client went away before the upstream answered: one less in flight, no latency or error sample. */
  abandon(): void;
}

/** What the window holds for one cluster. */
export interface ObservationSummary {
  /** EWMA of latency, ms; 0 when the window is empty. */
  readonly latencyMs: number;
  readonly p99Ms: number;
  /** Failed share of the window's requests, 0..1. */
  readonly errorRate: number;
  /** Requests that ended within the window. */
  readonly requests: number;
  readonly inflight: number;
}

export interface ObservationOptions {
  /** How long traffic counts (default 10 s). */
  readonly windowMs?: number;
  /** Start of the first window slot, epoch ms (default now). */
  readonly nowMs?: number;
}

const slotCount = 10;
const defaultWindowMs = 10_000;
/** Weight of the newest sample in the latency EWMA. */
const ewmaAlpha = 0.2;
/** Histogram: 4 buckets per doubling (≈19% wide), from 1/16 ms up to about 35 minutes. */
const bucketsPerOctave = 4;
const smallestLog2Ms = -4;
const bucketCount = 25 * bucketsPerOctave;
const p99 = 0.99;
/** Latencies are capped here so a broken clock cannot publish a value other instances reject. */
const maxLatencyMs = 3_600_000;

/** Counters of one cluster: `slotCount` window slots, each with a request count, failures and a histogram. */
class ClusterWindow implements ClusterObservations {
  inflight = 0;
  private ewmaMs = 0;
  private samples = 0;
  private current = 0;
  private readonly requests = new Uint32Array(slotCount);
  private readonly failures = new Uint32Array(slotCount);
  private readonly histogram = new Uint32Array(slotCount * bucketCount);

  begin(): void {
    this.inflight++;
  }

  end(latencyMs: number, failed: boolean): void {
    if (this.inflight > 0) this.inflight--;
    const ms = latencyMs > 0 ? Math.min(latencyMs, maxLatencyMs) : 0; // also maps NaN to 0
    this.ewmaMs = this.samples === 0 ? ms : this.ewmaMs + ewmaAlpha * (ms - this.ewmaMs);
    this.samples++;
    this.requests[this.current]++;
    if (failed) this.failures[this.current]++;
    this.histogram[this.current * bucketCount + bucketOf(ms)]++;
  }

  abandon(): void {
    if (this.inflight > 0) this.inflight--;
  }

  /** Moves the window `slots` slots on, forgetting the oldest traffic. */
  advance(slots: number): void {
    for (let i = 0; i < Math.min(slots, slotCount); i++) {
      this.current = (this.current + 1) % slotCount;
      this.requests[this.current] = 0;
      this.failures[this.current] = 0;
      this.histogram.fill(0, this.current * bucketCount, (this.current + 1) * bucketCount);
    }
    // An empty window restarts the average, so a burst after a quiet spell is not blended with stale samples.
    if (sum(this.requests) === 0) this.samples = 0;
  }

  summary(): ObservationSummary {
    const requests = sum(this.requests);
    if (requests === 0) return { latencyMs: 0, p99Ms: 0, errorRate: 0, requests: 0, inflight: this.inflight };
    return {
      latencyMs: this.ewmaMs,
      p99Ms: this.percentile(requests, p99),
      errorRate: sum(this.failures) / requests,
      requests,
      inflight: this.inflight,
    };
  }

  /** Upper bound of the bucket holding the q-quantile: an over-estimate by at most one bucket width. */
  private percentile(total: number, q: number): number {
    const rank = Math.ceil(total * q);
    let seen = 0;
    for (let b = 0; b < bucketCount; b++) {
      for (let s = 0; s < slotCount; s++) seen += this.histogram[s * bucketCount + b];
      if (seen >= rank) return 2 ** ((b + 1) / bucketsPerOctave + smallestLog2Ms);
    }
    return 2 ** (bucketCount / bucketsPerOctave + smallestLog2Ms);
  }
}

/** A handle for names not (or no longer) configured: counts nothing that is ever read. */
const detached: ClusterObservations = Object.freeze({ begin() {}, end() {}, abandon() {} });

/** Observations of every configured cluster. */
export class LocalObservations {
  private readonly windows = new Map<string, ClusterWindow>();
  private readonly slotMs: number;
  private slotStartMs: number;

  constructor(clusters: Iterable<string>, options: ObservationOptions = {}) {
    this.slotMs = (options.windowMs ?? defaultWindowMs) / slotCount;
    this.slotStartMs = options.nowMs ?? Date.now();
    this.retain(clusters);
  }

  /** The handle for a cluster; keep it, it stays the same across reloads that keep the cluster's name. */
  cluster(name: string): ClusterObservations {
    return this.windows.get(name) ?? detached;
  }

  /** Keeps the clusters named (their counters carry over), adds new ones empty, drops the rest. */
  retain(clusters: Iterable<string>): void {
    const keep = new Set(clusters);
    for (const name of this.windows.keys()) if (!keep.has(name)) this.windows.delete(name);
    for (const name of keep) if (!this.windows.has(name)) this.windows.set(name, new ClusterWindow());
  }

  /** Slides the window to `nowMs`; the fleet loop calls it once per cycle. */
  tick(nowMs: number): void {
    const slots = Math.floor((nowMs - this.slotStartMs) / this.slotMs);
    if (slots <= 0) return;
    this.slotStartMs += slots * this.slotMs;
    for (const window of this.windows.values()) window.advance(slots);
  }

  /** The window of one cluster, or undefined when it is not configured. */
  summary(name: string): ObservationSummary | undefined {
    return this.windows.get(name)?.summary();
  }
}

function bucketOf(ms: number): number {
  if (ms <= 0) return 0;
  const b = Math.floor((Math.log2(ms) - smallestLog2Ms) * bucketsPerOctave);
  return b < 0 ? 0 : b >= bucketCount ? bucketCount - 1 : b;
}

function sum(counts: Uint32Array): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  return total;
}
