/**
 * The fleet state as /api/status shows it (SPEC §7): who is in the fleet, each cluster's fleet view
 * with the reports behind it, and whether the store answers. Plain JSON values only.
 */
import type { EndpointProbeStatus } from '../health/checker.ts';
import type { ClusterAggregate } from './aggregate.ts';
import type { ClusterReport, ExternalReport, InstanceReport } from './report.ts';
import type { ClusterView, DialOverride, FleetSnapshot } from './snapshot.ts';
import type { Member } from './store.ts';

/** One cluster on the status page. */
export interface ClusterStatus {
  readonly fleet: ClusterView;
  /** Reports with a health verdict on the cluster (external feed included). */
  readonly healthReports: number;
  /** Each counted instance's view of the cluster, by instance id. */
  readonly reports: Readonly<Record<string, ClusterReport>>;
  readonly external?: ExternalReport;
  /** This instance's probes of the cluster's endpoints. */
  readonly probes: readonly EndpointProbeStatus[];
}

/** The /api/status view of the fleet state. */
export interface FleetStatus {
  readonly instanceId: string;
  readonly store: { readonly kind: 'memory' | 'redis'; readonly up: boolean; readonly downSinceMs?: number };
  readonly liveInstances: number;
  /** Instances whose reports count, with their report time. */
  readonly instances: readonly { readonly id: string; readonly atMs: number; readonly self: boolean }[];
  readonly members: readonly Member[];
  readonly clusters: Readonly<Record<string, ClusterStatus>>;
  readonly dialOverrides: Readonly<Record<string, DialOverride>>;
  readonly builtAtMs: number;
}

/** What the status is built from. */
export interface StatusInput {
  readonly instanceId: string;
  readonly store: 'memory' | 'redis';
  readonly storeUp: boolean;
  readonly storeDownSinceMs: number | undefined;
  readonly snapshot: FleetSnapshot;
  readonly own: InstanceReport;
  readonly remote: readonly InstanceReport[];
  readonly members: readonly Member[];
  readonly external: ReadonlyMap<string, ExternalReport>;
  readonly aggregates: ReadonlyMap<string, ClusterAggregate>;
  readonly probes: (cluster: string) => EndpointProbeStatus[];
}

/** Builds the status view. */
export function fleetStatus(input: StatusInput): FleetStatus {
  const reports = [input.own, ...input.remote];
  const clusters: Record<string, ClusterStatus> = {};
  for (const [name, view] of input.snapshot.clusters) {
    const byInstance: Record<string, ClusterReport> = {};
    for (const report of reports) {
      const cluster = report.clusters[name];
      if (cluster !== undefined) byInstance[report.id] = cluster;
    }
    const external = input.external.get(name);
    clusters[name] = {
      fleet: view,
      healthReports: input.aggregates.get(name)?.healthReports ?? 0,
      reports: byInstance,
      ...(external === undefined ? {} : { external }),
      probes: input.probes(name),
    };
  }
  return {
    instanceId: input.instanceId,
    store: { kind: input.store, up: input.storeUp, ...(input.storeDownSinceMs === undefined ? {} : { downSinceMs: input.storeDownSinceMs }) },
    liveInstances: input.snapshot.liveInstances,
    instances: reports.map((r) => ({ id: r.id, atMs: r.at, self: r.id === input.instanceId })),
    members: input.members,
    clusters,
    dialOverrides: Object.fromEntries(input.snapshot.dialOverrides),
    builtAtMs: input.snapshot.builtAtMs,
  };
}
