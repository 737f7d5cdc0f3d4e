/**
 * `switchyard explain` (SPEC §8): prints the decision for a hypothetical request as JSON, offline,
 * from the config and the geo database (and the fleet's Redis state when configured and reachable
 * within 2 s). It calls the same `decide()` as the gateway.
 */
import { isIP } from 'node:net';
import { loadConfigFile } from '../config/load.ts';
import { buildRuntimeConfig } from '../config/runtime.ts';
import { formatConfigIssue } from '../errors.ts';
import { openGeoDatabase } from '../geo/database.ts';
import { GeoResolver } from '../geo/lookup.ts';
import { decide } from '../decision/decide.ts';
import { explainDecision } from '../decision/explain.ts';
import { closedBreakers, emptySnapshot, type FleetSnapshot } from '../state/snapshot.ts';
import { readFleetSnapshot } from '../state/offline.ts';

export interface ExplainArgs {
  readonly ip?: string;
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
}

/** Prints the explanation; exit code 0, or 1/2 on bad config or arguments. */
export async function runExplain(configPath: string, args: ExplainArgs): Promise<number> {
  if (args.ip === undefined || isIP(args.ip) === 0) {
    process.stderr.write('switchyard explain: --ip must be an IPv4 or IPv6 address\n');
    return 2;
  }
  const loaded = await loadConfigFile(configPath);
  if (!loaded.ok) {
    for (const issue of loaded.issues) process.stderr.write(`${formatConfigIssue(issue)}\n`);
    return 1;
  }
  const runtime = buildRuntimeConfig(loaded.config, loaded.file);
  const geo = new GeoResolver(await openGeoDatabase(runtime.config.geo.database), 0);
  const info = geo.lookup(args.ip);
  let snapshot: FleetSnapshot = emptySnapshot;
  let stateSource = 'none (config only)';
  if (runtime.config.state.redis !== '') {
    const fleet = await readFleetSnapshot(runtime.config, 2000);
    if (fleet !== undefined) {
      snapshot = fleet;
      stateSource = 'redis';
    } else {
      stateSource = 'redis unreachable within 2 s: config only';
    }
  }
  const decision = decide({
    method: (args.method ?? 'GET').toUpperCase(),
    host: args.host,
    path: args.path ?? '/',
    headers: args.host === undefined ? {} : { host: args.host },
    clientIp: args.ip,
    geo: info,
    clientKey: args.ip,
  }, { runtime, snapshot, breakers: closedBreakers, nowMs: Date.now(), random: () => 0 });
  const out = { ...explainDecision(decision, args.ip, info), state: stateSource };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}
