/**
 * The /api/status document (SPEC §7): the same facts as the status page, as JSON. Built from the live
 * runtime config, fleet snapshot, breakers and traffic series; it never includes secrets (the admin
 * token, the Redis URL and affinity secrets are left out by construction: only named fields are copied).
 */
import { activeSchedule, effectiveDial } from '../decision/dial.ts';
import type { BreakerStatus } from '../breakers/cluster-breakers.ts';
import type { FleetStatus } from '../state/fleet.ts';
import type { TrafficSeriesView } from '../metrics/traffic-series.ts';
import type { SpoolRouteStatus } from '../spool/webhook-spool.ts';
import type { AdminDeps } from './app.ts';

/** One cluster row. */
export interface ClusterRow {
  readonly name: string;
  readonly role: string;
  readonly region: string;
  readonly weight: number;
  readonly endpoints: readonly string[];
  /** Fleet health; null when nobody has a view yet (treated as healthy). */
  readonly healthy: boolean | null;
  readonly drained: boolean;
  readonly breaker: BreakerStatus['state'];
  readonly latencyMs: number;
  readonly p99Ms: number;
  readonly errorRate: number;
  readonly inflight: number;
}

/** One route row, with its effective dial. */
export interface RouteRow {
  readonly name: string;
  readonly pathPrefix: string;
  readonly pin: string | null;
  readonly candidates: readonly string[];
  readonly standby: string | null;
  readonly dial: { percent: number; source: string; schedule?: string; expiresAt?: string } | null;
}

export interface StatusDocument {
  readonly version: string;
  readonly instanceId: string;
  readonly ready: boolean;
  readonly configFile: string;
  readonly generatedAt: string;
  readonly log: { readonly level: string; readonly access: boolean };
  readonly clusters: readonly ClusterRow[];
  readonly routes: readonly RouteRow[];
  readonly schedules: readonly { name: string; from: string; to: string; active: boolean; dials: Record<string, number> }[];
  readonly fleet: FleetStatus;
  readonly breakers: Readonly<Record<string, BreakerStatus>>;
  readonly traffic: TrafficSeriesView;
  /** Spool depth and replayer per pinned route (empty without Redis). */
  readonly spool: readonly SpoolRouteStatus[];
}

/** Builds the status document at `nowMs`. */
export function buildStatus(deps: AdminDeps, nowMs: number): StatusDocument {
  const runtime = deps.runtime;
  const snapshot = deps.fleet.snapshot();
  const clusters: ClusterRow[] = runtime.clusters.map((c) => {
    const view = snapshot.clusters.get(c.name);
    return {
      name: c.name, role: c.role, region: c.region.name, weight: c.weight, endpoints: c.endpoints,
      healthy: view?.healthy ?? null, drained: view?.drained ?? false, breaker: deps.breakers.state(c.name),
      latencyMs: view?.latencyMs ?? 0, p99Ms: view?.p99Ms ?? 0, errorRate: view?.errorRate ?? 0, inflight: view?.inflight ?? 0,
    };
  });
  const routes: RouteRow[] = runtime.routes.map((r) => {
    const dial = r.standby === undefined ? undefined : effectiveDial(r, runtime, snapshot, nowMs);
    return {
      name: r.name, pathPrefix: r.config.match.pathPrefix, pin: r.pin?.name ?? null,
      candidates: r.candidates.map((c) => c.name), standby: r.standby?.name ?? null,
      dial: dial === undefined ? null : {
        percent: dial.percent, source: dial.source,
        ...(dial.schedule === undefined ? {} : { schedule: dial.schedule }),
        ...(dial.expiresAtMs === undefined ? {} : { expiresAt: new Date(dial.expiresAtMs).toISOString() }),
      },
    };
  });
  const schedules = runtime.schedules.map((s) => ({
    name: s.name, from: new Date(s.fromMs).toISOString(), to: new Date(s.toMs).toISOString(),
    active: [...s.dials.keys()].some((route) => activeSchedule([s], route, nowMs) !== undefined),
    dials: Object.fromEntries(s.dials),
  }));
  return {
    version: runtime.version, instanceId: deps.instanceId, ready: deps.ready, configFile: runtime.file,
    generatedAt: new Date(nowMs).toISOString(),
    log: { level: deps.logger.level, access: runtime.config.log.access },
    clusters, routes, schedules, fleet: deps.fleet.status(), breakers: deps.breakers.states(), traffic: deps.trafficSeries.view(),
    spool: deps.webhooks.status(),
  };
}
