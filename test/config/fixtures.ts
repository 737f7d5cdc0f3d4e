/**
 * Inline config fixtures for the loader tests: YAML written as numbered lines, so a test can be read
 * next to the line:column it asserts.
 */
import { loadConfigText } from '../../src/config/load.ts';
import type { ConfigEnv } from '../../src/config/interpolate.ts';
import type { Config } from '../../src/config/schema.ts';
import { formatConfigIssue } from '../../src/errors.ts';

/** The smallest valid config: one region, one primary cluster, one route. */
export const minimalConfig = [
  'regions:',
  '  east-china: { location: [31.23, 121.47] }',
  'clusters:',
  '  trade-east: { role: primary, region: east-china, endpoints: [http://127.0.0.1:1] }',
  'routes:',
  '  - { name: storefront, match: { pathPrefix: / } }',
];

/** Lines 1-8 of a config with a primary, a trade and a standby cluster; routes follow from line 9. */
export const threeClusters = [
  'regions:',
  '  east-china: { location: [31.23, 121.47] }',
  '  south-china: { location: [23.13, 113.26] }',
  'clusters:',
  '  trade-east: { region: east-china, role: primary, endpoints: [http://10.1.0.10] }',
  '  trade-south: { region: south-china, endpoints: [http://10.2.0.10] }',
  '  promo-standby: { region: east-china, role: standby, endpoints: [http://10.3.0.10] }',
  'routes:',
];

/** Loads `lines` as `cfg.yaml` and expects it to fail; the issues come back formatted. */
export function issuesOf(lines: readonly string[], env: ConfigEnv = {}): string[] {
  const result = loadConfigText(lines.join('\n'), 'cfg.yaml', env);
  if (result.ok) throw new Error('expected the config to be refused, but it loaded');
  return result.issues.map(formatConfigIssue);
}

/** Loads `lines` as `cfg.yaml` and expects it to pass. */
export function configOf(lines: readonly string[], env: ConfigEnv = {}): Config {
  const result = loadConfigText(lines.join('\n'), 'cfg.yaml', env);
  if (!result.ok) throw new Error(`expected the config to load:\n${result.issues.map(formatConfigIssue).join('\n')}`);
  return result.config;
}
