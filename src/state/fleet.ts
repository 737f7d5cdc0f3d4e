/**
 * Fleet state (SPEC §4, §6): owns the store, the local observations and the health checker, and runs
 * the publish/read loop every `state.publishIntervalMs`. Each cycle publishes this instance's view,
 * reads the fleet's and swaps in a new immutable FleetSnapshot, which the request path reads in O(1).
 *
 * When the store is unreachable the loop never throws: it keeps the other instances' last reports
 * (last-known-good) merged with fresh local observations. After `staleAfterMs` of outage this instance
 * probes every endpoint itself and its own verdicts win over the frozen ones (see docs/state.md).
 */
import type { Config } from '../config/schema.ts';
import { HealthChecker } from '../health/checker.ts';
import { AvailabilityTracker } from './availability.ts';
import { buildOwnReport, buildSnapshot } from './fleet-view.ts';
import { silentLogger, type StateLogger } from './logger.ts';
import { LocalObservations } from './observations.ts';
import type { InstanceReport } from './report.ts';
import { emptySnapshot, type BreakerView, type DialOverride, type FleetSnapshot } from './snapshot.ts';
import { fleetStatus, type FleetStatus } from './status.ts';
import { createStateStore, type FleetRead, type StateStore } from './store.ts';
import type { ClusterAggregate } from './aggregate.ts';

export interface FleetStateOptions {
  readonly config: Config;
  /** Unique per process; stable across restarts when possible (pod name). */
  readonly instanceId: string;
  readonly breakers: BreakerView;
  readonly logger?: StateLogger;
  readonly now?: () => number;
  /** Called with every new snapshot (metrics gauges); must not throw. */
  readonly onSnapshot?: (snapshot: FleetSnapshot) => void;
  /** Replaces the store chosen from `state.redis` (several in-process instances can share one). */
  readonly store?: StateStore;
  /** How long observed traffic counts (default 10 s). */
  readonly observationWindowMs?: number;
}

/** Stop without cleanup models a crash: the instance's key stays until it goes stale. */
export interface StopOptions {
  readonly deregister?: boolean;
}

/** Published reports live this many staleAfterMs, so a reader always finds a stale one rather than none. */
const reportTtlFactor = 3;
/** start() waits for the first connection about one publish interval, within these bounds. */
const minConnectWaitMs = 500;
const maxConnectWaitMs = 2000;

/** The fleet's shared state as this instance sees it. */
export class FleetState {
  /** Passive observations; the proxy keeps `observations.cluster(name)` handles. */
  readonly observations: LocalObservations;
  private config: Config;
  private readonly instanceId: string;
  private readonly breakers: BreakerView;
  private readonly logger: StateLogger;
  private readonly now: () => number;
  private readonly onSnapshot: ((snapshot: FleetSnapshot) => void) | undefined;
  private readonly store: StateStore;
  private readonly health: HealthChecker;
  private readonly availability = new AvailabilityTracker();
  private current: FleetSnapshot = emptySnapshot;
  private aggregates: ReadonlyMap<string, ClusterAggregate> = new Map();
  private own: InstanceReport;
  /** Last read of the store: the last-known-good fleet view while it is down. */
  private fleet: FleetRead = { members: [], reports: [], drained: new Set(), dialOverrides: new Map(), external: new Map() };
  private storeUp: boolean;
  private storeDownSinceMs: number | undefined;
  private cycles: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(options: FleetStateOptions) {
    this.config = options.config;
    this.instanceId = options.instanceId;
    this.breakers = options.breakers;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.onSnapshot = options.onSnapshot;
    this.store = options.store ?? createStateStore(options.config.state, this.logger);
    this.storeUp = this.store.kind === 'memory';
    const clusters = Object.keys(options.config.clusters);
    this.observations = new LocalObservations(clusters, { windowMs: options.observationWindowMs, nowMs: this.now() });
    this.health = new HealthChecker({ instanceId: options.instanceId, logger: this.logger });
    this.health.configure(options.config.clusters);
    this.own = this.ownReport(this.now());
  }

  /** Connects, runs the first cycle and starts the loop and the probes; resolves even when the store is down. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'running';
    const connected = await this.store.connect(Math.min(maxConnectWaitMs, Math.max(this.config.state.publishIntervalMs, minConnectWaitMs)));
    if (!connected) this.logger.warn({ store: this.store.kind }, 'state store not reachable at start: running on local state');
    await this.refresh();
    this.health.start();
    this.scheduleNext();
  }

  /** Stops the loop and the probes, removes this instance from the fleet (best effort) and disconnects. */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    clearTimeout(this.timer);
    await this.health.stop();
    await this.cycles;
    if (wasRunning && options.deregister !== false) {
      await this.store.removeInstance(this.instanceId).catch((err: Error) =>
        this.logger.warn({ err: { message: err.message } }, 'could not remove this instance from the state store'));
    }
    await this.store.close();
  }

  /** The current snapshot: O(1), the same reference until the next cycle or admin change. */
  snapshot(): FleetSnapshot {
    return this.current;
  }

  /** Runs one cycle now (after any cycle in progress). Never rejects. */
  refresh(): Promise<void> {
    return this.serialized(() => this.cycle()).catch((err: Error) =>
      this.logger.error({ err: { message: err.message, stack: err.stack } }, 'fleet state cycle failed'));
  }

  /** Applies a reloaded config: clusters keeping their name keep their state; probes are re-planned. */
  applyConfig(config: Config): void {
    const before = this.config.state;
    if (config.state.redis !== before.redis || config.state.keyPrefix !== before.keyPrefix) {
      this.logger.warn({}, 'state.redis and state.keyPrefix changes take effect on restart');
    }
    this.config = config;
    const clusters = Object.keys(config.clusters);
    this.observations.retain(clusters);
    this.availability.retain(clusters);
    this.health.configure(config.clusters);
    this.own = this.ownReport(this.now());
    this.rebuild();
  }

  /** Drains or undrains a cluster fleet-wide (SPEC §7); rejects when the store is unreachable. */
  setDrain(cluster: string, drained: boolean): Promise<void> {
    return this.serialized(async () => {
      await this.store.setDrain(cluster, drained);
      const next = new Set(this.fleet.drained);
      if (drained) next.add(cluster);
      else next.delete(cluster);
      this.fleet = { ...this.fleet, drained: next };
      this.rebuild();
    });
  }

  /** Sets a fleet-wide dial override that expires after `ttlSeconds` (SPEC §5). */
  async setDialOverride(route: string, percent: number, ttlSeconds: number): Promise<void> {
    if (!(percent >= 0 && percent <= 100)) throw new RangeError('percent must be between 0 and 100');
    if (!(ttlSeconds > 0)) throw new RangeError('ttlSeconds must be positive');
    return this.serialized(async () => {
      const override: DialOverride = { percent, expiresAtMs: this.now() + ttlSeconds * 1000 };
      await this.store.setDialOverride(route, override, ttlSeconds * 1000);
      this.fleet = { ...this.fleet, dialOverrides: new Map(this.fleet.dialOverrides).set(route, override) };
      this.rebuild();
    });
  }

  /** Clears a route's dial override fleet-wide. */
  clearDialOverride(route: string): Promise<void> {
    return this.serialized(async () => {
      await this.store.clearDialOverride(route);
      const next = new Map(this.fleet.dialOverrides);
      next.delete(route);
      this.fleet = { ...this.fleet, dialOverrides: next };
      this.rebuild();
    });
  }

  /** A JSON-friendly view for /api/status: instances, per-cluster fleet view and per-instance reports. */
  status(): FleetStatus {
    return fleetStatus({
      instanceId: this.instanceId, store: this.store.kind, storeUp: this.storeUp, storeDownSinceMs: this.storeDownSinceMs,
      snapshot: this.current, own: this.own, remote: this.countedReports(), members: this.fleet.members,
      external: this.fleet.external, aggregates: this.aggregates, probes: (c) => this.health.status(c),
    });
  }

  private async cycle(): Promise<void> {
    if (this.state === 'stopped') return;
    const nowMs = this.now();
    const { staleAfterMs } = this.config.state;
    this.observations.tick(nowMs);
    this.own = this.ownReport(nowMs);
    try {
      this.fleet = await this.store.exchange({
        own: this.own, clusters: Object.keys(this.config.clusters), routes: this.config.routes.map((r) => r.name),
        nowMs, staleAfterMs, reportTtlMs: staleAfterMs * reportTtlFactor,
      });
      if (!this.storeUp) this.logger.info({ store: this.store.kind }, 'state store reachable again');
      this.storeUp = true;
      this.storeDownSinceMs = undefined;
    } catch (err) {
      if (this.storeUp) this.logger.error({ err: { message: (err as Error).message } }, 'state store unreachable: keeping the last-known fleet view');
      this.storeUp = false;
      this.storeDownSinceMs ??= nowMs;
    }
    // Probes are planned over instances with a valid fresh report: a stray id in the membership set
    // (written by hand, or an instance publishing garbage) must not take a share of the probes.
    this.health.setMembers(this.isolated(nowMs) ? [] : this.fleet.reports.map((r) => r.id));
    this.rebuild(nowMs);
  }

  /** Store down for longer than staleAfterMs: the frozen reports of others can no longer be trusted alone. */
  private isolated(nowMs: number): boolean {
    return this.storeDownSinceMs !== undefined && nowMs - this.storeDownSinceMs > this.config.state.staleAfterMs;
  }

  /** Reports of other instances that count: those read last (fresh when the store is up, frozen when not). */
  private countedReports(): readonly InstanceReport[] {
    return this.fleet.reports;
  }

  private rebuild(nowMs = this.now()): void {
    const built = buildSnapshot({
      config: this.config, own: this.own, remote: this.countedReports(), external: this.fleet.external,
      drained: this.fleet.drained, dialOverrides: this.fleet.dialOverrides, isolated: this.isolated(nowMs),
      storeUp: this.storeUp, nowMs, breakers: this.breakers, availability: this.availability,
    });
    this.current = built.snapshot;
    this.aggregates = built.aggregates;
    try {
      this.onSnapshot?.(built.snapshot);
    } catch (err) {
      this.logger.error({ err: { message: (err as Error).message } }, 'snapshot listener failed');
    }
  }

  /**
   * Runs `op` after the cycle or admin change in progress, so a cycle that read the store before an
   * admin write cannot overwrite that write's local effect with what it read.
   */
  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const result = this.cycles.then(op);
    this.cycles = result.then(() => undefined, () => undefined);
    return result;
  }

  private ownReport(nowMs: number): InstanceReport {
    return buildOwnReport(this.instanceId, nowMs, this.config, this.observations, this.health, this.breakers);
  }

  private scheduleNext(): void {
    if (this.state !== 'running') return;
    this.timer = setTimeout(() => void this.refresh().then(() => this.scheduleNext()), this.config.state.publishIntervalMs);
    this.timer.unref();
  }
}

export type { FleetStatus };
