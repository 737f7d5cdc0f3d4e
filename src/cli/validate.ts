/**
 * `switchyard validate [-c FILE]` (SPEC §8): exit 0 with a one-line summary, or 1 with every problem as
 * `file:line:col path: message`. Only counts and names are printed, never values, so secrets stay out.
 */
import { loadConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { clusterRoles } from '../config/schema.ts';
import { formatConfigIssue } from '../errors.ts';

/** Validates the config at `configPath` and prints the outcome; resolves to the exit code. */
export async function runValidate(configPath: string): Promise<number> {
  const result = await loadConfigFile(configPath);
  if (result.ok) {
    process.stdout.write(`${result.file}: OK — ${summarizeConfig(result.config)}\n`);
    for (const warning of configWarnings(result.config)) process.stderr.write(`${result.file}: warning: ${warning}\n`);
    return 0;
  }
  const lines = result.issues.map(formatConfigIssue);
  lines.push(`${configPath}: ${count(result.issues.length, 'error')}`);
  process.stderr.write(`${lines.join('\n')}\n`);
  return 1;
}

/** `3 clusters (1 primary, 1 trade, 1 standby), 2 routes, 2 regions, 1 schedule`. */
export function summarizeConfig(config: Config): string {
  const clusters = Object.values(config.clusters);
  const roles = clusterRoles
    .map((role) => ({ role, n: clusters.filter((cluster) => cluster.role === role).length }))
    .filter(({ n }) => n > 0)
    .map(({ role, n }) => `${n} ${role}`);
  return [
    roles.length === 0 ? count(0, 'cluster') : `${count(clusters.length, 'cluster')} (${roles.join(', ')})`,
    count(config.routes.length, 'route'),
    count(Object.keys(config.regions).length, 'region'),
    count(config.schedules.length, 'schedule'),
  ].join(', ');
}

/**
 * Valid but probably not what was meant; printed, never failing validation. Without Redis each worker
 * process is its own fleet instance with its own in-memory view (see docs/operations.md, Workers).
 */
export function configWarnings(config: Config): string[] {
  if (config.workers > 1 && config.state.redis === '') {
    return [`workers: ${config.workers} without state.redis: each worker keeps its own health, latency and breaker view; set state.redis to share them`];
  }
  return [];
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
