/**
 * Cross-reference checks (SPEC §3, §5): what the schema cannot see on its own, because it spans keys.
 * Runs on a config the schema accepted; every problem comes back with the key path it is about.
 */
import type { Config, RouteConfig } from './schema.ts';
import type { ConfigPath, PathIssue, PositionTarget } from './positions.ts';
import { parseRedisUrl } from '../state/redis-url.ts';

type Report = (path: ConfigPath, message: string, target?: PositionTarget) => void;

/** Every cross-reference problem of a schema-valid config, in no particular order. */
export function checkCrossReferences(config: Config): PathIssue[] {
  const issues: PathIssue[] = [];
  const report: Report = (path, message, target) => issues.push({ path, message, ...(target ? { target } : {}) });
  checkRegions(config, report);
  checkClusters(config, report);
  config.routes.forEach((route, index) => checkRoute(config, route, ['routes', index], report));
  checkDuplicateRouteNames(config, report);
  checkSchedules(config, report);
  checkRedisUrl(config, report);
  checkWorkers(config, report);
  return issues;
}

/** Workers share one traffic port (SO_REUSEPORT): port 0 would give each worker a different random one. */
function checkWorkers(config: Config, report: Report): void {
  if (config.workers > 1 && config.listen.port === 0) {
    report(['workers'], 'more than one worker needs a fixed listen.port: with 0 each worker would listen on a different random port');
  }
}

/** A malformed Redis URL is a config error with a position, not a crash at start (the URL is never quoted). */
function checkRedisUrl(config: Config, report: Report): void {
  if (config.state.redis === '') return;
  try {
    parseRedisUrl(config.state.redis);
  } catch (err) {
    report(['state', 'redis'], (err as Error).message);
  }
}

function checkRegions(config: Config, report: Report): void {
  const region = config.geo.defaultRegion;
  if (region !== undefined && !(region in config.regions)) {
    report(['geo', 'defaultRegion'], `unknown region "${region}"${known(config.regions)}`);
  }
}

function checkClusters(config: Config, report: Report): void {
  let primary: string | undefined;
  for (const [name, cluster] of Object.entries(config.clusters)) {
    const at = ['clusters', name];
    if (!(cluster.region in config.regions)) report([...at, 'region'], `unknown region "${cluster.region}"${known(config.regions)}`);
    if (cluster.role === 'primary') {
      if (primary === undefined) primary = name;
      else report([...at, 'role'], `only one cluster may be primary; "${primary}" already is`);
    }
    const { healthCheck, timeouts } = cluster;
    if (healthCheck.timeoutMs >= healthCheck.intervalMs) {
      report([...at, 'healthCheck', 'timeoutMs'], `must be less than healthCheck.intervalMs (${healthCheck.intervalMs})`);
    }
    for (const key of ['connectMs', 'headersMs'] as const) {
      if (timeouts[key] > timeouts.totalMs) report([...at, 'timeouts', key], `must not exceed timeouts.totalMs (${timeouts.totalMs})`);
    }
    checkDuplicateEndpoints(cluster.endpoints, [...at, 'endpoints'], report);
  }
}

function checkDuplicateEndpoints(endpoints: readonly string[], at: ConfigPath, report: Report): void {
  const seen = new Map<string, number>();
  endpoints.forEach((endpoint, index) => {
    // `http://a`, `http://a/` and `http://a:80` are the same endpoint.
    const origin = new URL(endpoint).origin;
    const first = seen.get(origin);
    if (first === undefined) seen.set(origin, index);
    else report([...at, index], `duplicate endpoint: same as endpoints[${first}]`);
  });
}

function checkRoute(config: Config, route: RouteConfig, at: ConfigPath, report: Report): void {
  if (route.pin !== undefined) checkPinnedRoute(config, route, at, report);
  else checkTradeRoute(config, route, at, report);
  if (route.spool?.enabled && config.state.redis === '') {
    report([...at, 'spool', 'enabled'], 'spooling needs state.redis: the spool is a Redis Stream');
  }
}

function checkPinnedRoute(config: Config, route: RouteConfig, at: ConfigPath, report: Report): void {
  const pinned = config.clusters[route.pin!];
  if (pinned === undefined) report([...at, 'pin'], `unknown cluster "${route.pin}"${known(config.clusters)}`);
  else if (pinned.role === 'standby') report([...at, 'pin'], `"${route.pin}" is a standby cluster; pin a primary or trade cluster`);
  // Pinned routes ignore these; rejecting them keeps anyone from believing they apply.
  for (const key of ['clusters', 'standby', 'affinity'] as const) {
    if (route[key] !== undefined) report([...at, key], `a pinned route ignores ${key}; remove it or the pin`, 'key');
  }
}

function checkTradeRoute(config: Config, route: RouteConfig, at: ConfigPath, report: Report): void {
  if (route.spool !== undefined) report([...at, 'spool'], 'only pinned routes spool; add a pin or remove spool', 'key');
  route.clusters?.forEach((name, index) => {
    const cluster = config.clusters[name];
    if (cluster === undefined) report([...at, 'clusters', index], `unknown cluster "${name}"${known(config.clusters)}`);
    else if (cluster.role === 'standby') report([...at, 'clusters', index], `"${name}" is a standby cluster; name it in standby.cluster instead`);
  });
  const candidates = (route.clusters ?? Object.keys(config.clusters))
    .filter((name) => config.clusters[name] !== undefined && config.clusters[name].role !== 'standby');
  if (candidates.length === 0) {
    const where = route.clusters === undefined ? at : [...at, 'clusters'];
    report(where, 'no candidate cluster: the route needs at least one primary or trade cluster');
  }
  const standby = route.standby?.cluster;
  if (standby === undefined) return;
  const cluster = config.clusters[standby];
  if (cluster === undefined) report([...at, 'standby', 'cluster'], `unknown cluster "${standby}"${known(config.clusters)}`);
  else if (cluster.role !== 'standby') report([...at, 'standby', 'cluster'], `"${standby}" has role ${cluster.role}, not standby`);
}

function checkDuplicateRouteNames(config: Config, report: Report): void {
  const seen = new Map<string, number>();
  config.routes.forEach((route, index) => {
    const first = seen.get(route.name);
    if (first === undefined) seen.set(route.name, index);
    else report(['routes', index, 'name'], `duplicate route name "${route.name}" (also routes[${first}])`);
  });
}

function checkSchedules(config: Config, report: Report): void {
  const routes = new Map(config.routes.map((route) => [route.name, route]));
  const windows = config.schedules.map((schedule) => ({ from: Date.parse(schedule.from), to: Date.parse(schedule.to) }));
  config.schedules.forEach((schedule, index) => {
    const at = ['schedules', index];
    if (windows[index].from >= windows[index].to) report([...at, 'to'], 'must be later than from');
    for (const name of Object.keys(schedule.dials)) {
      const route = routes.get(name);
      if (route === undefined) report([...at, 'dials', name], `unknown route "${name}"`, 'key');
      else if (route.standby === undefined) report([...at, 'dials', name], `route "${name}" has no standby cluster to dial`, 'key');
      const earlier = config.schedules.findIndex((other, o) => o < index && name in other.dials && overlaps(windows[o], windows[index]));
      if (earlier !== -1) {
        report([...at, 'dials', name], `overlaps schedule "${config.schedules[earlier].name}", which also dials "${name}"`, 'key');
      }
    }
  });
}

function overlaps(a: { from: number; to: number }, b: { from: number; to: number }): boolean {
  // Half-open windows: one ending exactly when the next starts does not overlap it.
  return a.from < a.to && b.from < b.to && a.from < b.to && b.from < a.to;
}

function known(names: Record<string, unknown>): string {
  const list = Object.keys(names);
  return list.length === 0 ? '' : ` (known: ${list.join(', ')})`;
}
