/**
 * What a chaos run checks, kept apart from how it makes chaos: GET outcomes attributed to the windows
 * in which no cluster could serve, webhook outcomes by the cluster that answered, and the resident
 * memory of each gateway over time.
 */

/** Periods in which every cluster serving GETs was down, each extended by a recovery grace. */
export class Blackouts {
  private readonly windows: { fromMs: number; toMs: number }[] = [];
  private openSinceMs: number | undefined;
  private readonly graceMs: number;

  constructor(graceMs: number) {
    this.graceMs = graceMs;
  }

  begin(nowMs: number): void {
    this.openSinceMs ??= nowMs;
  }

  end(nowMs: number): void {
    if (this.openSinceMs === undefined) return;
    this.windows.push({ fromMs: this.openSinceMs, toMs: nowMs + this.graceMs });
    this.openSinceMs = undefined;
  }

  /** Whether [fromMs, toMs] touches a blackout (an open one included). */
  overlaps(fromMs: number, toMs: number): boolean {
    if (this.openSinceMs !== undefined && toMs >= this.openSinceMs) return true;
    return this.windows.some((w) => fromMs <= w.toMs && toMs >= w.fromMs);
  }

  /** An excused failure at `atMs`: remembered when it came after the clusters were back (recovery time). */
  failedAt(atMs: number): void {
    for (const w of this.windows) {
      if (atMs >= w.fromMs && atMs <= w.toMs) this.slowestRecoveryMs = Math.max(this.slowestRecoveryMs, atMs - (w.toMs - this.graceMs));
    }
  }

  /** Longest time from every cluster being back to the last GET failure of that blackout. */
  slowestRecoveryMs = 0;

  get count(): number {
    return this.windows.length + (this.openSinceMs === undefined ? 0 : 1);
  }
}

/** GET answers: a failure is excused only when it overlaps a blackout. */
export class GetTally {
  ok = 0;
  excused = 0;
  violations = 0;
  readonly samples: string[] = [];
  private readonly blackouts: Blackouts;

  constructor(blackouts: Blackouts) {
    this.blackouts = blackouts;
  }

  /** `durationMs` is how long the request took, so its start can be placed. */
  record(status: number | string, atMs: number, durationMs: number): void {
    if (status === 200) {
      this.ok++;
      return;
    }
    if (this.blackouts.overlaps(atMs - durationMs, atMs)) {
      this.excused++;
      this.blackouts.failedAt(atMs);
      return;
    }
    this.violations++;
    if (this.samples.length < 20) this.samples.push(`${status} at ${(atMs / 1000).toFixed(1)} s`);
  }
}

/** Webhook answers by what the client saw. */
export class WebhookTally {
  /** 200 from the primary. */
  ok = 0;
  /** The gateway's own 503/502/504 while the primary was unreachable or died mid-request. */
  refused = 0;
  /** Answered by any cluster other than the primary: never allowed. */
  wrongCluster = 0;
  errors = 0;
  readonly statuses = new Map<number, number>();
  private readonly primary: string;

  constructor(primary: string) {
    this.primary = primary;
  }

  record(status: number, cluster: string | undefined): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (cluster !== undefined && cluster !== 'none' && cluster !== this.primary) this.wrongCluster++;
    else if (status === 200) this.ok++;
    else this.refused++;
  }
}

/** Memory samples (RSS or heap) of one process; "flat" compares the start and the end of the run after warm-up. */
export class MemoryTrack {
  readonly samples: { atMs: number; bytes: number }[] = [];

  add(atMs: number, bytes: number): void {
    this.samples.push({ atMs, bytes });
  }

  /** Medians of the first and last tenth (at least 3 samples each) of the samples after `warmupMs`. */
  verdict(warmupMs: number, allowedGrowth: number, allowedBytes: number): { startMB: number; endMB: number; maxMB: number; flat: boolean } {
    const after = this.samples.filter((s) => s.atMs >= warmupMs).map((s) => s.bytes);
    const slice = Math.max(3, Math.floor(after.length / 10));
    const start = median(after.slice(0, slice));
    const end = median(after.slice(-slice));
    const bound = Math.max(start * allowedGrowth, allowedBytes);
    const mb = (b: number) => Math.round(b / 1e5) / 10;
    return { startMB: mb(start), endMB: mb(end), maxMB: mb(Math.max(0, ...after)), flat: after.length > 0 && end - start <= bound };
  }
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
