/**
 * The replayer of one route's spool (SPEC §5). Every instance runs one per pinned route, but only the
 * holder of the route's lease delivers: one replayer for the fleet, strictly in stream order. The
 * holder renews the lease while it works; if it crashes the lease expires and another instance takes
 * over with the entry that was in flight still first in the stream, so delivery is at least once.
 */
import type { RuntimeRoute } from '../config/runtime.ts';
import type { StateLogger } from '../state/logger.ts';
import type { SpoolDelivery } from './delivery.ts';
import type { SpoolEntry } from './entry.ts';
import type { SpoolKeys } from './keys.ts';
import type { MalformedEntry, SpoolStats, SpoolStore } from './store.ts';

/** Timings of the replay loop. */
export interface ReplayTuning {
  /** How often an idle replayer looks at its stream (and refreshes status). */
  readonly pollIntervalMs: number;
  /** Lease lifetime: how long a crashed holder blocks the route before another instance takes over. */
  readonly leaseMs: number;
  /** First and last wait after a failed delivery (5xx, refused, timeout); doubles in between. */
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** Entries read per round trip. */
  readonly batchSize: number;
}

export interface ReplayerDeps {
  readonly store: SpoolStore;
  readonly delivery: SpoolDelivery;
  readonly instanceId: string;
  readonly logger: StateLogger;
  readonly tuning: ReplayTuning;
  /** The route as the current config has it; undefined once it was removed. */
  route(): RuntimeRoute | undefined;
  keys(route: string): SpoolKeys;
  /** Whether the pinned cluster may take traffic by the fleet view and breakers (drained or open: no). */
  available(route: RuntimeRoute): boolean;
}

const defaultMaxAgeSeconds = 86_400;
/** Failed cycles wait at most this many poll intervals before the next look at the store. */
const storeBackoffPolls = 4;
/** Distinct store errors logged per outage; a client cycling through more is still bounded. */
const maxStoreErrorsLogged = 5;

/** Replays one route's spool while this instance holds its lease. */
export class RouteReplayer {
  readonly name: string;
  /** Last stats read, for status() and metrics; undefined until the first cycle. */
  stats: SpoolStats | undefined;
  /** Entries delivered by this instance (2xx). */
  delivered = 0;
  private readonly deps: ReplayerDeps;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Failed deliveries in a row (the primary is still down). */
  private failures = 0;
  /** Failed cycles in a row (the store is unreachable), and the distinct errors logged for them. */
  private storeFailures = 0;
  private readonly storeErrors = new Set<string>();
  private lease = new AbortController();

  constructor(name: string, deps: ReplayerDeps) {
    this.name = name;
    this.deps = deps;
  }

  /** Starts the loop. */
  start(): void {
    this.schedule(0);
  }

  /**
   * Stops after the delivery in flight, waiting at most `waitMs` (a dead Redis must not hold shutdown up);
   * past that the delivery is aborted and its entry stays first in line. `release` hands the lease over.
   */
  async stop(waitMs: number, release: boolean): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((resolve) => { timer = setTimeout(resolve, waitMs); })]);
    clearTimeout(timer);
    this.lease.abort(new Error('replayer stopped'));
    if (release) await this.deps.store.releaseLease(this.deps.keys(this.name), this.deps.instanceId).catch(() => {});
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.cycle().then((nextMs) => this.schedule(nextMs));
    }, delayMs);
  }

  /** One look at the stream; resolves with the delay before the next one. Never rejects. */
  private async cycle(): Promise<number> {
    const { tuning } = this.deps;
    const route = this.deps.route();
    if (route === undefined || route.pin === undefined) return tuning.pollIntervalMs;
    const keys = this.deps.keys(route.name);
    try {
      this.stats = await this.deps.store.stats(keys);
      if (this.stats.depth === 0 || !await this.deps.store.holdLease(keys, this.deps.instanceId, tuning.leaseMs)) {
        this.storeReachable(route);
        return tuning.pollIntervalMs;
      }
      const retry = await this.holding(keys, () => this.drain(route, keys));
      this.stats = await this.deps.store.stats(keys);
      this.storeReachable(route);
      return retry ? this.backoffMs(this.failures) : tuning.pollIntervalMs;
    } catch (err) {
      return this.storeFailed(route, err as Error);
    }
  }

  /**
   * A cycle could not reach the store. Logged once per outage and distinct error, not per cycle: a
   * Redis outage would otherwise log every few hundred milliseconds for as long as it lasts. The
   * cycles back off exponentially, to at most storeBackoffPolls poll intervals.
   */
  private storeFailed(route: RuntimeRoute, err: Error): number {
    this.storeFailures++;
    if (!this.storeErrors.has(err.message) && this.storeErrors.size < maxStoreErrorsLogged) {
      this.storeErrors.add(err.message);
      this.deps.logger.warn({ route: route.name, err: { message: err.message }, failedCycles: this.storeFailures },
        'spool replay cycle failed; retrying with backoff, logged once per outage and error');
    }
    // Capped lower than delivery backoff: the stats (spool_depth, /api/status) refresh only with a
    // cycle, and replay should resume within a few polls of the store coming back.
    return Math.min(this.backoffMs(this.storeFailures), this.deps.tuning.pollIntervalMs * storeBackoffPolls);
  }

  private storeReachable(route: RuntimeRoute): void {
    if (this.storeFailures === 0) return;
    this.deps.logger.info({ route: route.name, failedCycles: this.storeFailures }, 'spool replay resumed: the store is reachable again');
    this.storeFailures = 0;
    this.storeErrors.clear();
  }

  /** Runs `work` while renewing the lease; losing it aborts the delivery in flight. */
  private async holding<T>(keys: SpoolKeys, work: () => Promise<T>): Promise<T> {
    const lease = this.lease = new AbortController();
    const renew = setInterval(() => {
      this.deps.store.holdLease(keys, this.deps.instanceId, this.deps.tuning.leaseMs)
        .then((held) => held || lease.abort(new Error('lease lost')), (err: Error) => lease.abort(err));
    }, Math.max(1, Math.floor(this.deps.tuning.leaseMs / 3)));
    try {
      return await work();
    } finally {
      clearInterval(renew);
    }
  }

  /** Delivers from the head of the stream until it is empty or a delivery must wait; true to back off. */
  private async drain(route: RuntimeRoute, keys: SpoolKeys): Promise<boolean> {
    const maxAgeMs = (route.config.spool?.maxAgeSeconds ?? defaultMaxAgeSeconds) * 1000;
    while (!this.stopped && !this.lease.signal.aborted) {
      const batch = await this.deps.store.head(keys, this.deps.tuning.batchSize);
      if (batch.length === 0) return false;
      for (const entry of batch) {
        if (this.stopped || this.lease.signal.aborted) return false;
        if (isMalformed(entry)) {
          await this.deadLetter(keys, route, entry.id, 0, 'malformed');
          continue;
        }
        // Arrival order is stream order: once the head is young enough, so is the rest.
        if (Date.now() - entry.arrivedAtMs > maxAgeMs) {
          await this.deadLetter(keys, route, entry.id, entry.sizeBytes, 'max_age', entry.requestId);
          continue;
        }
        if (!this.deps.available(route)) return false;
        if (!await this.deliver(route, keys, entry)) return true;
      }
    }
    return false;
  }

  /** One delivery and its bookkeeping; false when the entry must be tried again later. */
  private async deliver(route: RuntimeRoute, keys: SpoolKeys, entry: SpoolEntry): Promise<boolean> {
    const outcome = await this.deps.delivery.deliver(entry, route.pin!, this.lease.signal);
    const facts = { route: route.name, spoolId: entry.id, requestId: entry.requestId };
    if (outcome.kind === 'retry') {
      this.failures++;
      if (this.failures === 1) this.deps.logger.warn({ ...facts, status: outcome.status, err: outcome.error }, 'spooled webhook delivery failed; retrying');
      return false;
    }
    this.failures = 0;
    if (outcome.kind === 'rejected') {
      await this.deadLetter(keys, route, entry.id, entry.sizeBytes, `rejected_${outcome.status}`, entry.requestId);
      return true;
    }
    this.delivered++;
    await this.deps.store.ack(keys, entry.id, entry.sizeBytes);
    this.deps.logger.info({ ...facts, status: outcome.status, spooledForMs: Date.now() - entry.arrivedAtMs }, 'spooled webhook delivered');
    return true;
  }

  private async deadLetter(keys: SpoolKeys, route: RuntimeRoute, id: string, sizeBytes: number,
    reason: Parameters<SpoolStore['deadLetter']>[3], requestId?: string): Promise<void> {
    await this.deps.store.deadLetter(keys, id, sizeBytes, reason, Date.now());
    this.deps.logger.warn({ route: route.name, spoolId: id, requestId, reason, deadLetterStream: keys.dead }, 'spooled webhook dead-lettered');
  }

  /** Exponential from backoffMinMs, capped at backoffMaxMs, after `failures` failures in a row. */
  private backoffMs(failures: number): number {
    const { backoffMinMs, backoffMaxMs } = this.deps.tuning;
    return Math.min(backoffMaxMs, backoffMinMs * 2 ** Math.min(Math.max(0, failures - 1), 16));
  }
}

function isMalformed(entry: SpoolEntry | MalformedEntry): entry is MalformedEntry {
  return 'malformed' in entry;
}
