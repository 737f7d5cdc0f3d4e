import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configOf, issuesOf, minimalConfig, threeClusters } from './fixtures.ts';
import { loadConfigText } from '../../src/config/load.ts';

const storefront = '  - { name: storefront, match: { pathPrefix: / } }';

test('the three-cluster fixture with a plain route is valid', () => {
  assert.equal(configOf([...threeClusters, storefront]).routes[0].name, 'storefront');
});

test('a cluster in an unknown region, and an unknown default region', () => {
  assert.deepEqual(issuesOf([
    'geo: { defaultRegion: west-china }',
    'regions:',
    '  east-china: { location: [31.23, 121.47] }',
    'clusters:',
    '  trade-east: { region: east-chna, endpoints: [http://10.1.0.10] }',
    'routes:',
    storefront,
  ]), [
    'cfg.yaml:1:23 geo.defaultRegion: unknown region "west-china" (known: east-china)',
    'cfg.yaml:5:25 clusters.trade-east.region: unknown region "east-chna" (known: east-china)',
  ]);
});

test('a pin to an unknown cluster, and a pin to a standby cluster', () => {
  assert.deepEqual(issuesOf([
    ...threeClusters,
    '  - { name: webhooks, pin: trade-west }',
    '  - { name: promo-hooks, pin: promo-standby }',
  ]), [
    'cfg.yaml:9:28 routes[0].pin: unknown cluster "trade-west" (known: trade-east, trade-south, promo-standby)',
    'cfg.yaml:10:31 routes[1].pin: "promo-standby" is a standby cluster; pin a primary or trade cluster',
  ]);
});

test('a pinned route may not also carry clusters, standby or affinity', () => {
  assert.deepEqual(issuesOf([
    ...threeClusters,
    '  - name: webhooks',
    '    pin: trade-east',
    '    clusters: [trade-east]',
    '    standby: { cluster: promo-standby }',
    '    affinity: { cookie: sy }',
  ]), [
    'cfg.yaml:11:5 routes[0].clusters: a pinned route ignores clusters; remove it or the pin',
    'cfg.yaml:12:5 routes[0].standby: a pinned route ignores standby; remove it or the pin',
    'cfg.yaml:13:5 routes[0].affinity: a pinned route ignores affinity; remove it or the pin',
  ]);
});

test('route candidates must be known, non-standby clusters', () => {
  assert.deepEqual(issuesOf([
    ...threeClusters,
    '  - { name: storefront, clusters: [trade-east, trade-west, promo-standby] }',
  ]), [
    'cfg.yaml:9:48 routes[0].clusters[1]: unknown cluster "trade-west" (known: trade-east, trade-south, promo-standby)',
    'cfg.yaml:9:60 routes[0].clusters[2]: "promo-standby" is a standby cluster; name it in standby.cluster instead',
  ]);
});

test('a route left with no candidate cluster', () => {
  assert.deepEqual(issuesOf([...threeClusters, '  - { name: promo, clusters: [promo-standby] }']), [
    'cfg.yaml:9:30 routes[0].clusters: no candidate cluster: the route needs at least one primary or trade cluster',
    'cfg.yaml:9:31 routes[0].clusters[0]: "promo-standby" is a standby cluster; name it in standby.cluster instead',
  ]);
  assert.deepEqual(issuesOf([
    'regions: { east-china: { location: [31.23, 121.47] } }',
    'clusters: { promo-standby: { region: east-china, role: standby, endpoints: [http://10.3.0.10] } }',
    'routes:',
    '  - name: storefront',
  ]), ['cfg.yaml:4:5 routes[0]: no candidate cluster: the route needs at least one primary or trade cluster']);
});

test('standby.cluster must name a cluster whose role is standby', () => {
  assert.deepEqual(issuesOf([
    ...threeClusters,
    '  - { name: storefront, standby: { cluster: trade-south } }',
    '  - { name: search, standby: { cluster: promo-west } }',
  ]), [
    'cfg.yaml:9:45 routes[0].standby.cluster: "trade-south" has role trade, not standby',
    'cfg.yaml:10:41 routes[1].standby.cluster: unknown cluster "promo-west" (known: trade-east, trade-south, promo-standby)',
  ]);
});

test('route names are unique', () => {
  assert.deepEqual(issuesOf([...threeClusters, storefront, '  - { name: storefront, match: { pathPrefix: /b } }']), [
    'cfg.yaml:10:13 routes[1].name: duplicate route name "storefront" (also routes[0])',
  ]);
});

test('spool needs a pin and state.redis', () => {
  assert.deepEqual(issuesOf([
    ...threeClusters,
    '  - { name: webhooks, pin: trade-east, spool: { enabled: true } }',
    '  - { name: storefront, spool: { enabled: false } }',
  ]), [
    'cfg.yaml:9:58 routes[0].spool.enabled: spooling needs state.redis: the spool is a Redis Stream',
    'cfg.yaml:10:25 routes[1].spool: only pinned routes spool; add a pin or remove spool',
  ]);
  const withRedis = configOf(['state: { redis: "redis://127.0.0.1:6379" }', ...threeClusters,
    '  - { name: webhooks, pin: trade-east, spool: { enabled: true } }']);
  assert.equal(withRedis.routes[0].spool?.enabled, true);
});

test('only one cluster may be primary', () => {
  assert.deepEqual(issuesOf([
    'regions: { east-china: { location: [31.23, 121.47] } }',
    'clusters:',
    '  trade-east: { region: east-china, role: primary, endpoints: [http://10.1.0.10] }',
    '  trade-north: { region: east-china, role: primary, endpoints: [http://10.4.0.10] }',
    'routes:',
    storefront,
  ]), ['cfg.yaml:4:44 clusters.trade-north.role: only one cluster may be primary; "trade-east" already is']);
});

test('health check timeout below its interval, request timeouts within the total, endpoints unique', () => {
  assert.deepEqual(issuesOf([
    'regions: { east-china: { location: [31.23, 121.47] } }',
    'clusters:',
    '  trade-east:',
    '    region: east-china',
    '    endpoints: [http://10.1.0.10, "http://10.1.0.10:80/"]',
    '    healthCheck: { intervalMs: 1000, timeoutMs: 1000 }',
    '    timeouts: { connectMs: 2000, headersMs: 45000, totalMs: 30000 }',
    'routes:',
    storefront,
  ]), [
    'cfg.yaml:5:35 clusters.trade-east.endpoints[1]: duplicate endpoint: same as endpoints[0]',
    'cfg.yaml:6:49 clusters.trade-east.healthCheck.timeoutMs: must be less than healthCheck.intervalMs (1000)',
    'cfg.yaml:7:45 clusters.trade-east.timeouts.headersMs: must not exceed timeouts.totalMs (30000)',
  ]);
});

test('a check against a default points at the block the SRE wrote', () => {
  assert.deepEqual(issuesOf([
    'regions: { east-china: { location: [31.23, 121.47] } }',
    'clusters:',
    '  trade-east:',
    '    region: east-china',
    '    endpoints: [http://10.1.0.10]',
    '    healthCheck: { intervalMs: 500 }',
    'routes:',
    storefront,
  ]), ['cfg.yaml:6:5 clusters.trade-east.healthCheck.timeoutMs: must be less than healthCheck.intervalMs (500)']);
});

test('schedules: window order, overlapping dials, unknown routes and routes without standby', () => {
  assert.deepEqual(issuesOf([
    ...threeClusters,
    '  - { name: storefront, standby: { cluster: promo-standby } }',
    '  - { name: search }',
    'schedules:',
    '  - { name: double-11, from: 2026-11-10T16:00:00Z, to: 2026-11-12T16:00:00Z, dials: { storefront: 40 } }',
    '  - { name: late-night, from: 2026-11-12T00:00:00+08:00, to: 2026-11-13T00:00:00Z, dials: { storefront: 10 } }',
    '  - { name: backwards, from: 2026-12-12T00:00:00Z, to: 2026-12-11T00:00:00Z, dials: { search: 5, checkout: 5 } }',
    '  - { name: next-day, from: 2026-11-12T16:00:00Z, to: 2026-11-13T16:00:00Z, dials: { search: 0 } }',
  ]), [
    'cfg.yaml:13:93 schedules[1].dials.storefront: overlaps schedule "double-11", which also dials "storefront"',
    'cfg.yaml:14:56 schedules[2].to: must be later than from',
    'cfg.yaml:14:87 schedules[2].dials.search: route "search" has no standby cluster to dial',
    'cfg.yaml:14:98 schedules[2].dials.checkout: unknown route "checkout"',
    'cfg.yaml:15:86 schedules[3].dials.search: route "search" has no standby cluster to dial',
  ]);
});

test('windows that only touch do not overlap', () => {
  const config = configOf([
    ...threeClusters,
    '  - { name: storefront, standby: { cluster: promo-standby } }',
    'schedules:',
    '  - { name: day-1, from: 2026-11-10T00:00:00Z, to: 2026-11-11T00:00:00Z, dials: { storefront: 40 } }',
    '  - { name: day-2, from: 2026-11-11T00:00:00Z, to: 2026-11-12T00:00:00Z, dials: { storefront: 20 } }',
  ]);
  assert.equal(config.schedules.length, 2);
});

test('typos and broken references are reported in the same run', () => {
  assert.deepEqual(issuesOf([...minimalConfig.slice(0, 5), '  - { name: webhooks, pin: trade-west, retyr: {} }']), [
    'cfg.yaml:6:28 routes[0].pin: unknown cluster "trade-west" (known: trade-east)',
    'cfg.yaml:6:40 routes[0].retyr: unknown key "retyr" (did you mean retry?)',
  ]);
});

test('a malformed state.redis URL is a positioned error that does not quote the URL', () => {
  const result = loadConfigText([
    'regions: { here: { location: [1, 2] } }',
    'clusters: { a: { region: here, role: primary, endpoints: ["http://127.0.0.1:1"] } }',
    'routes: [{ name: all }]',
    'state: { redis: "mysql://user:hunter2@db" }',
  ].join('\n'), 'cfg.yaml', {});
  assert.equal(result.ok, false);
  const issues = result.ok ? [] : result.issues;
  assert.equal(issues.length, 1);
  assert.equal(issues[0].line, 4);
  assert.equal(issues[0].path, 'state.redis');
  assert.ok(!JSON.stringify(issues).includes('hunter2'));
});
