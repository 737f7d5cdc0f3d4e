/**
 * The runtime config: the validated config turned into the tables the request path reads (route
 * matchers, cluster and region tables, no-geo RTTs), built once per load and frozen. A reload builds a
 * new one and swaps a single reference; in-flight requests keep the one they started with.
 */
import { createHash } from 'node:crypto';
import type { ClusterConfig, ClusterRole, Config, RouteConfig, ScheduleConfig } from './schema.ts';
import { compileRouteMatcher, type RouteMatcher } from '../decision/match.ts';
import { haversineKm } from '../decision/distance.ts';
import { compileTrustedProxies, type TrustedProxies } from '../ingress/client-address.ts';

export interface RuntimeRegion {
  readonly name: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly countries: ReadonlySet<string>;
  readonly subdivisions: ReadonlySet<string>;
  /** RTT charged to clients without geo (SPEC §4): 0 for the default region, else the median of the others. */
  readonly noGeoRttMs: number;
}

export interface RuntimeCluster {
  readonly name: string;
  /** Position in `RuntimeConfig.clusters`; lets hot-path tables be arrays. */
  readonly index: number;
  readonly role: ClusterRole;
  readonly region: RuntimeRegion;
  readonly weight: number;
  /** Endpoint origins, normalised (`http://10.1.0.10:80`). */
  readonly endpoints: readonly string[];
  readonly config: ClusterConfig;
}

export interface RuntimeRoute {
  readonly name: string;
  readonly index: number;
  readonly matcher: RouteMatcher;
  readonly pin: RuntimeCluster | undefined;
  /** Trade candidates (never standby); empty for pinned routes. */
  readonly candidates: readonly RuntimeCluster[];
  readonly standby: RuntimeCluster | undefined;
  readonly config: RouteConfig;
}

export interface RuntimeSchedule {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly rampMs: number;
  readonly dials: ReadonlyMap<string, number>;
}

export interface RuntimeConfig {
  /** Content hash of the config: what /api/reload answers and logs name. */
  readonly version: string;
  readonly file: string;
  readonly config: Config;
  readonly clusters: readonly RuntimeCluster[];
  readonly clustersByName: ReadonlyMap<string, RuntimeCluster>;
  readonly routes: readonly RuntimeRoute[];
  readonly routesByName: ReadonlyMap<string, RuntimeRoute>;
  readonly regions: ReadonlyMap<string, RuntimeRegion>;
  readonly schedules: readonly RuntimeSchedule[];
  readonly trustedProxies: TrustedProxies;
}

/** Builds the frozen runtime tables from a validated config (cross-references already checked). */
export function buildRuntimeConfig(config: Config, file: string): RuntimeConfig {
  const regions = buildRegions(config);
  const clusters = Object.entries(config.clusters).map(([name, cluster], index) =>
    buildCluster(name, index, cluster, regions));
  const clustersByName = new Map(clusters.map((c) => [c.name, c]));
  const routes = config.routes.map((route, index) => buildRoute(route, index, clusters, clustersByName));
  return Object.freeze({
    version: configVersion(config),
    file,
    config,
    clusters: Object.freeze(clusters),
    clustersByName,
    routes: Object.freeze(routes),
    routesByName: new Map(routes.map((r) => [r.name, r])),
    regions,
    schedules: Object.freeze(config.schedules.map(buildSchedule)),
    trustedProxies: compileTrustedProxies(config.trustedProxies),
  });
}

function buildRegions(config: Config): ReadonlyMap<string, RuntimeRegion> {
  const entries = Object.entries(config.regions);
  const defaultName = config.geo.defaultRegion;
  const defaultRegion = defaultName === undefined ? undefined : config.regions[defaultName];
  // Without client geo, the default region is "here" and every other region is as far as the median
  // region is from it: a fair guess that neither favours nor starves any one of them.
  const distancesMs = entries
    .filter(([name]) => name !== defaultName)
    .map(([, r]) => defaultRegion === undefined ? 0
      : haversineKm(defaultRegion.location[0], defaultRegion.location[1], r.location[0], r.location[1]) / config.scoring.kmPerMs);
  const medianMs = median(distancesMs);
  return new Map(entries.map(([name, r]) => [name, Object.freeze({
    name,
    latitude: r.location[0],
    longitude: r.location[1],
    countries: new Set(r.countries),
    subdivisions: new Set(r.subdivisions),
    noGeoRttMs: name === defaultName ? 0 : medianMs,
  })]));
}

function buildCluster(name: string, index: number, cluster: ClusterConfig,
  regions: ReadonlyMap<string, RuntimeRegion>): RuntimeCluster {
  const region = regions.get(cluster.region);
  if (region === undefined) throw new Error(`cluster ${name}: unknown region ${cluster.region}`);
  return Object.freeze({
    name,
    index,
    role: cluster.role,
    region,
    weight: cluster.weight,
    endpoints: Object.freeze(cluster.endpoints.map((e) => new URL(e).origin)),
    config: cluster,
  });
}

function buildRoute(route: RouteConfig, index: number, clusters: readonly RuntimeCluster[],
  byName: ReadonlyMap<string, RuntimeCluster>): RuntimeRoute {
  const lookup = (name: string) => {
    const cluster = byName.get(name);
    if (cluster === undefined) throw new Error(`route ${route.name}: unknown cluster ${name}`);
    return cluster;
  };
  const pin = route.pin === undefined ? undefined : lookup(route.pin);
  const candidates = pin !== undefined ? []
    : route.clusters !== undefined ? route.clusters.map(lookup)
      : clusters.filter((c) => c.role !== 'standby');
  return Object.freeze({
    name: route.name,
    index,
    matcher: compileRouteMatcher(route.match),
    pin,
    candidates: Object.freeze(candidates),
    standby: pin === undefined && route.standby !== undefined ? lookup(route.standby.cluster) : undefined,
    config: route,
  });
}

function buildSchedule(schedule: ScheduleConfig): RuntimeSchedule {
  return Object.freeze({
    name: schedule.name,
    fromMs: Date.parse(schedule.from),
    toMs: Date.parse(schedule.to),
    rampMs: schedule.rampMinutes * 60_000,
    dials: new Map(Object.entries(schedule.dials)),
  });
}

function configVersion(config: Config): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
