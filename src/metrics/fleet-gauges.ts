/**
 * The SPEC §7 metrics read at scrape time rather than counted on the request path: fleet health,
 * breaker state, in-flight, effective dials, the state store and geo lookups. Each is computed in its
 * `collect()` from the live snapshot, so a scrape always shows the current config's clusters and routes
 * (removed ones disappear) and the request path pays nothing for them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RuntimeConfig } from '../config/runtime.ts';
import { effectiveDial } from '../decision/dial.ts';
import type { GeoStats } from '../geo/lookup.ts';
import type { BreakerState, BreakerView, FleetSnapshot } from '../state/snapshot.ts';
import type { SpoolRouteStatus } from '../spool/webhook-spool.ts';

/** What the scrape-time metrics read. */
export interface FleetSources {
  runtime(): RuntimeConfig;
  snapshot(): FleetSnapshot;
  readonly breakers: BreakerView;
  /** Upstream attempts in flight from this instance to a cluster. */
  inflight(cluster: string): number;
  readonly geoStats: GeoStats;
  /** Epoch ms; injected so dials at schedule boundaries are testable. */
  nowMs(): number;
  /** The webhook spool per route (its last background read), when spooling routes exist. */
  spool?(): readonly SpoolRouteStatus[];
}

/** SPEC §7: 0 closed, 1 half-open, 2 open. */
const breakerValue: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

/** Registers the scrape-time metrics on `registry`. */
export function registerFleetGauges(registry: Registry, sources: FleetSources): void {
  const registers = [registry];
  new Gauge({
    name: 'switchyard_cluster_healthy', help: 'Fleet view of the cluster\'s health (1 healthy, 0 not); no view at all counts as healthy (SPEC §4)',
    labelNames: ['cluster'], registers,
    collect() {
      this.reset();
      const { clusters } = sources.snapshot();
      for (const { name } of sources.runtime().clusters) this.set({ cluster: name }, clusters.get(name)?.healthy === false ? 0 : 1);
    },
  });
  new Gauge({
    name: 'switchyard_breaker_state', help: 'Circuit breaker of this instance: 0 closed, 1 half-open, 2 open',
    labelNames: ['cluster'], registers,
    collect() {
      this.reset();
      for (const { name } of sources.runtime().clusters) this.set({ cluster: name }, breakerValue[sources.breakers.state(name)]);
    },
  });
  new Gauge({
    name: 'switchyard_cluster_inflight', help: 'Upstream requests in flight from this instance to the cluster',
    labelNames: ['cluster'], registers,
    collect() {
      this.reset();
      for (const { name } of sources.runtime().clusters) this.set({ cluster: name }, sources.inflight(name));
    },
  });
  new Gauge({
    name: 'switchyard_dial_percent', help: 'Effective standby dial of the route (override, schedule or config), percent',
    labelNames: ['route'], registers,
    collect() {
      this.reset();
      const runtime = sources.runtime();
      const snapshot = sources.snapshot();
      const nowMs = sources.nowMs();
      for (const route of runtime.routes) this.set({ route: route.name }, effectiveDial(route, runtime, snapshot, nowMs).percent);
    },
  });
  new Gauge({
    name: 'switchyard_state_store_up', help: 'Whether the shared state store answered on the last cycle (1 with the in-memory store)',
    registers,
    collect() {
      this.set(sources.snapshot().storeUp ? 1 : 0);
    },
  });
  new Counter({
    name: 'switchyard_geo_lookups_total', help: 'Geo lookups by result: hit (cache), miss (database), none (no geo), error',
    labelNames: ['result'], registers,
    collect() {
      // The resolver keeps plain running totals; the counter mirrors them at scrape.
      this.reset();
      const stats = sources.geoStats;
      for (const result of ['hit', 'miss', 'none', 'error'] as const) this.inc({ result }, stats[result]);
    },
  });
  registerSpoolGauges(registry, sources);
}

/**
 * Spool depth, oldest age and dead letters per spooling route (SPEC §5 asks for them in metrics; the
 * names are additions to SPEC §7's list).
 */
function registerSpoolGauges(registry: Registry, sources: FleetSources): void {
  const gauge = (name: string, help: string, read: (s: SpoolRouteStatus) => number | null) => new Gauge({
    name, help, labelNames: ['route'], registers: [registry],
    collect() {
      this.reset();
      for (const status of sources.spool?.() ?? []) {
        const value = read(status);
        if (value !== null) this.set({ route: status.route }, value);
      }
    },
  });
  gauge('switchyard_spool_depth', 'Webhooks waiting in the spool of the route', (s) => s.depth);
  gauge('switchyard_spool_oldest_age_seconds', 'Age of the oldest spooled webhook of the route', (s) => s.oldestAgeSeconds);
  gauge('switchyard_spool_dead_letters', 'Entries in the dead-letter stream of the route', (s) => s.deadLetters);
}
