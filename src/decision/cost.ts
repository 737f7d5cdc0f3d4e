/**
 * The cost of sending a client to a cluster, in milliseconds (SPEC §4):
 * `cost = rtt(client, region) + latency(cluster) + errorRate(cluster) × errorPenaltyMs`.
 */
import type { RuntimeCluster, RuntimeRegion } from '../config/runtime.ts';
import type { GeoInfo } from '../geo/types.ts';
import type { ClusterView } from '../state/snapshot.ts';
import { haversineKm } from './distance.ts';

export interface CostTerms {
  readonly rttMs: number;
  readonly latencyMs: number;
  readonly errorPenaltyMs: number;
}

/** Estimated RTT from a client to a region: 0 inside the region's lists, else distance / kmPerMs. */
export function rttMs(geo: GeoInfo | undefined, region: RuntimeRegion, kmPerMs: number): number {
  if (geo === undefined) return region.noGeoRttMs;
  if (geo.subdivision !== undefined && region.subdivisions.has(geo.subdivision)) return 0;
  if (geo.country !== undefined && region.countries.has(geo.country)) return 0;
  if (geo.latitude === undefined || geo.longitude === undefined) return region.noGeoRttMs;
  return haversineKm(geo.latitude, geo.longitude, region.latitude, region.longitude) / kmPerMs;
}

/** The three cost terms of one cluster for one client. */
export function costTerms(geo: GeoInfo | undefined, cluster: RuntimeCluster, view: ClusterView | undefined,
  kmPerMs: number, errorPenaltyMs: number): CostTerms {
  return {
    rttMs: round(rttMs(geo, cluster.region, kmPerMs)),
    latencyMs: round(view?.latencyMs ?? 0),
    errorPenaltyMs: round((view?.errorRate ?? 0) * errorPenaltyMs),
  };
}

/** Sum of the terms. */
export function totalCost(terms: CostTerms): number {
  return round(terms.rttMs + terms.latencyMs + terms.errorPenaltyMs);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
