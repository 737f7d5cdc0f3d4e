/**
 * The traffic split shown on the status page (SPEC §7 "traffic split"): requests per cluster in
 * fixed time buckets over the last minutes, kept in one ring buffer per cluster. Counting is one array
 * increment; buckets roll lazily on the next count or read, so no timer runs.
 */
import { noneLabel } from './request-metrics.ts';

export interface TrafficSeriesOptions {
  /** Width of one bucket (default 10 s). */
  readonly bucketMs?: number;
  /** Buckets kept (default 60: ten minutes of 10-second buckets). */
  readonly buckets?: number;
  readonly nowMs?: () => number;
}

/** What /api/status serves: counts per cluster, oldest bucket first, the last one still filling. */
export interface TrafficSeriesView {
  readonly bucketMs: number;
  /** Start (epoch ms) of the oldest bucket. */
  readonly startMs: number;
  readonly clusters: Readonly<Record<string, readonly number[]>>;
}

/** Per-cluster request counts over a sliding window of time buckets. */
export class TrafficSeries {
  private readonly bucketMs: number;
  private readonly size: number;
  private readonly nowMs: () => number;
  private readonly rings = new Map<string, Uint32Array>();
  /** Absolute index (time / bucketMs) of the bucket now filling. */
  private current: number;

  constructor(options: TrafficSeriesOptions = {}) {
    this.bucketMs = options.bucketMs ?? 10_000;
    this.size = options.buckets ?? 60;
    this.nowMs = options.nowMs ?? Date.now;
    this.current = Math.floor(this.nowMs() / this.bucketMs);
  }

  /** Counts one request answered by `cluster` (undefined: the gateway itself). */
  count(cluster: string | undefined): void {
    this.roll();
    const name = cluster ?? noneLabel;
    let ring = this.rings.get(name);
    if (ring === undefined) this.rings.set(name, ring = new Uint32Array(this.size));
    ring[this.current % this.size]++;
  }

  /** Forgets clusters no longer configured (the gateway's own answers stay). */
  retain(clusters: Iterable<string>): void {
    const keep = new Set(clusters);
    keep.add(noneLabel);
    for (const name of this.rings.keys()) if (!keep.has(name)) this.rings.delete(name);
  }

  /** The window as JSON, oldest bucket first. */
  view(): TrafficSeriesView {
    this.roll();
    const clusters: Record<string, number[]> = {};
    const oldest = this.current - this.size + 1;
    for (const [name, ring] of this.rings) {
      const counts: number[] = [];
      for (let i = oldest; i <= this.current; i++) counts.push(ring[((i % this.size) + this.size) % this.size]);
      clusters[name] = counts;
    }
    return { bucketMs: this.bucketMs, startMs: oldest * this.bucketMs, clusters };
  }

  /** Clears the buckets that time has passed since the last call. */
  private roll(): void {
    const now = Math.floor(this.nowMs() / this.bucketMs);
    if (now === this.current) return;
    const passed = Math.min(now - this.current, this.size);
    for (const ring of this.rings.values()) {
      for (let i = 1; i <= passed; i++) ring[(this.current + i) % this.size] = 0;
    }
    this.current = now;
  }
}
