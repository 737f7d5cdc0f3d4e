import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { buildRuntimeConfig, type RuntimeConfig } from '../../src/config/runtime.ts';
import { decide, type DecisionRequest } from '../../src/decision/decide.ts';
import { explainDecision } from '../../src/decision/explain.ts';
import type { GeoInfo } from '../../src/geo/types.ts';
import { closedBreakers, emptySnapshot, type BreakerState, type ClusterView, type FleetSnapshot } from '../../src/state/snapshot.ts';

const guangzhou: GeoInfo = { country: 'CN', subdivision: 'CN-GD', continent: 'AS', latitude: 23.12, longitude: 113.25 };
const hangzhou: GeoInfo = { country: 'CN', subdivision: 'CN-ZJ', continent: 'AS', latitude: 30.29, longitude: 120.16 };
const london: GeoInfo = { country: 'GB', subdivision: 'GB-ENG', continent: 'EU', latitude: 51.5, longitude: -0.12 };
const beijing: GeoInfo = { country: 'CN', subdivision: 'CN-BJ', continent: 'AS', latitude: 39.9, longitude: 116.4 };

function runtimeOf(overrides: Partial<ConfigInput> = {}): RuntimeConfig {
  const input: ConfigInput = {
    geo: { defaultRegion: 'east-china' },
    regions: {
      'east-china': { location: [31.23, 121.47], subdivisions: ['CN-SH', 'CN-ZJ', 'CN-JS', 'CN-AH'] },
      'south-china': { location: [23.13, 113.26], subdivisions: ['CN-GD', 'CN-GX', 'CN-FJ', 'CN-HI'] },
      europe: { location: [50.11, 8.68], countries: ['DE'] },
    },
    clusters: {
      'trade-east': { region: 'east-china', role: 'primary', endpoints: ['http://127.0.0.1:1'] },
      'trade-south': { region: 'south-china', role: 'trade', endpoints: ['http://127.0.0.1:2'] },
      'trade-eu': { region: 'europe', role: 'trade', endpoints: ['http://127.0.0.1:4'] },
      'promo-standby': { region: 'east-china', role: 'standby', endpoints: ['http://127.0.0.1:3'] },
    },
    routes: [
      { name: 'payment-webhooks', match: { pathPrefix: '/webhooks/payment/', methods: ['POST'] }, pin: 'trade-east' },
      { name: 'storefront', match: { pathPrefix: '/' }, standby: { cluster: 'promo-standby', dial: 0 } },
    ],
    ...overrides,
  };
  return buildRuntimeConfig(configSchema.parse(input), 'test.yaml');
}

function request(geo: GeoInfo | undefined, over: Partial<DecisionRequest> = {}): DecisionRequest {
  return { method: 'GET', host: 'shop.example', path: '/cart', headers: {}, clientIp: '198.51.100.7', geo, clientKey: '198.51.100.7', ...over };
}

const view = (v: Partial<ClusterView>): ClusterView => ({
  healthy: true, drained: false, latencyMs: 0, p99Ms: 0, errorRate: 0, inflight: 0, availableSinceMs: 0, ...v,
});

function snapshotOf(clusters: Record<string, Partial<ClusterView>>, over: Partial<FleetSnapshot> = {}): FleetSnapshot {
  return { ...emptySnapshot, clusters: new Map(Object.entries(clusters).map(([k, v]) => [k, view(v)])), ...over };
}

const breakersOf = (open: Record<string, BreakerState>) => ({ state: (c: string) => open[c] ?? 'closed' });

const ctx = (runtime: RuntimeConfig, snapshot: FleetSnapshot = emptySnapshot, extra: object = {}) =>
  ({ runtime, snapshot, breakers: closedBreakers, nowMs: 1_000_000, random: () => 0.5, ...extra });

test('clients inside a region\'s subdivisions go to that region\'s cluster', () => {
  const runtime = runtimeOf();
  const south = decide(request(guangzhou), ctx(runtime));
  assert.equal(south.action, 'forward');
  assert.equal(south.action === 'forward' && south.cluster.name, 'trade-south');
  assert.equal(south.reason, 'lowest cost');
  const east = decide(request(hangzhou), ctx(runtime));
  assert.equal(east.action === 'forward' && east.cluster.name, 'trade-east');
});

test('clients outside every list go to the nearest region by distance', () => {
  const runtime = runtimeOf();
  const decision = decide(request(london), ctx(runtime));
  assert.equal(decision.action === 'forward' && decision.cluster.name, 'trade-eu');
  const bj = decide(request(beijing), ctx(runtime));
  assert.equal(bj.action === 'forward' && bj.cluster.name, 'trade-east', 'Beijing is closer to Shanghai than to Guangzhou');
  const costs = Object.fromEntries(bj.candidates.map((c) => [c.cluster.name, c.costMs]));
  assert.ok(costs['trade-east']! > 10 && costs['trade-east']! < 12, `about 1070 km / 100 km per ms, got ${costs['trade-east']}`);
});

test('clients without geo cost 0 for the default region and the median of the others', () => {
  const runtime = runtimeOf();
  const decision = decide(request(undefined), ctx(runtime));
  assert.equal(decision.action === 'forward' && decision.cluster.name, 'trade-east');
  const terms = Object.fromEntries(decision.candidates.map((c) => [c.cluster.name, c.terms?.rttMs]));
  assert.equal(terms['trade-east'], 0);
  assert.equal(terms['trade-south'], terms['trade-eu'], 'every other region gets the same median');
});

test('latency and error penalties move traffic away from the geo-nearest cluster', () => {
  const runtime = runtimeOf();
  const slow = decide(request(guangzhou), ctx(runtime, snapshotOf({ 'trade-south': { latencyMs: 500 } })));
  assert.equal(slow.action === 'forward' && slow.cluster.name, 'trade-east');
  const failing = decide(request(guangzhou), ctx(runtime, snapshotOf({ 'trade-south': { errorRate: 0.5 } })));
  assert.equal(failing.action === 'forward' && failing.cluster.name, 'trade-east');
  const south = failing.candidates.find((c) => c.cluster.name === 'trade-south')!;
  assert.deepEqual(south.terms, { rttMs: 0, latencyMs: 0, errorPenaltyMs: 500 });
});

test('clusters within tieMs share traffic in proportion to weight', () => {
  const runtime = runtimeOf({
    clusters: {
      a: { region: 'east-china', role: 'primary', endpoints: ['http://127.0.0.1:1'], weight: 300 },
      b: { region: 'east-china', role: 'trade', endpoints: ['http://127.0.0.1:2'], weight: 100 },
    },
    routes: [{ name: 'all', match: { pathPrefix: '/' } }],
  });
  const snapshot = snapshotOf({ a: { latencyMs: 2 }, b: { latencyMs: 4 } });
  const counts: Record<string, number> = { a: 0, b: 0 };
  for (let i = 0; i < 1000; i++) {
    const d = decide(request(hangzhou), ctx(runtime, snapshot, { random: () => i / 1000 }));
    if (d.action === 'forward') counts[d.cluster.name]++;
  }
  assert.deepEqual(counts, { a: 750, b: 250 });
  const far = snapshotOf({ a: { latencyMs: 2 }, b: { latencyMs: 20 } });
  const d = decide(request(hangzhou), ctx(runtime, far, { random: () => 0.99 }));
  assert.equal(d.action === 'forward' && d.cluster.name, 'a', 'beyond tieMs the cheapest always wins');
});

test('drained, open-breaker and unhealthy clusters are not eligible, with their reasons', () => {
  const runtime = runtimeOf();
  const snapshot = snapshotOf({ 'trade-south': { drained: true }, 'trade-eu': { healthy: false } });
  const d = decide(request(guangzhou), ctx(runtime, snapshot, { breakers: breakersOf({ 'promo-standby': 'open' }) }));
  assert.equal(d.action === 'forward' && d.cluster.name, 'trade-east');
  const reasons = Object.fromEntries(d.candidates.map((c) => [c.cluster.name, c.reasons]));
  assert.deepEqual(reasons, { 'trade-east': [], 'trade-south': ['drained'], 'trade-eu': ['unhealthy'], 'promo-standby': ['breaker_open'] });
  assert.equal(d.panic, false);
});

test('panic: when health alone would leave nothing, health is ignored', () => {
  const runtime = runtimeOf();
  const snapshot = snapshotOf({
    'trade-east': { healthy: false }, 'trade-south': { healthy: false }, 'trade-eu': { healthy: false }, 'promo-standby': { healthy: false },
  });
  const d = decide(request(guangzhou), ctx(runtime, snapshot));
  assert.equal(d.panic, true);
  assert.equal(d.action === 'forward' && d.cluster.name, 'trade-south');
});

test('no eligible trade cluster: standby serves; nothing eligible: 503 no_healthy_cluster', () => {
  const runtime = runtimeOf();
  const allDrained = { 'trade-east': { drained: true }, 'trade-south': { drained: true }, 'trade-eu': { drained: true } };
  const failover = decide(request(guangzhou), ctx(runtime, snapshotOf(allDrained)));
  assert.equal(failover.action === 'forward' && failover.cluster.name, 'promo-standby');
  assert.equal(failover.reason, 'failover');
  const none = decide(request(guangzhou), ctx(runtime, snapshotOf({ ...allDrained, 'promo-standby': { drained: true } })));
  assert.equal(none.action, 'reject');
  assert.equal(none.action === 'reject' && none.error, 'no_healthy_cluster');
});

test('pinned routes ignore geo, dials and other clusters, and 503 with Retry-After when their cluster is unavailable', () => {
  const runtime = runtimeOf();
  const webhook = request(guangzhou, { method: 'POST', path: '/webhooks/payment/alipay' });
  const ok = decide(webhook, ctx(runtime, snapshotOf({ 'trade-south': { drained: true } }, {
    dialOverrides: new Map([['storefront', { percent: 100, expiresAtMs: Infinity }]]),
  })));
  assert.equal(ok.action === 'forward' && ok.cluster.name, 'trade-east');
  assert.equal(ok.action === 'forward' && ok.fallbacks.length, 0);
  const drained = decide(webhook, ctx(runtime, snapshotOf({ 'trade-east': { drained: true } })));
  assert.equal(drained.action, 'reject');
  assert.equal(drained.action === 'reject' && drained.error, 'pinned_cluster_unavailable');
  assert.equal(drained.action === 'reject' && drained.retryAfterSeconds, 30);
  const open = decide(webhook, ctx(runtime, emptySnapshot, { breakers: breakersOf({ 'trade-east': 'open' }) }));
  assert.equal(open.action, 'reject');
  const unhealthyOnly = decide(webhook, ctx(runtime, snapshotOf({ 'trade-east': { healthy: false } })));
  assert.equal(unhealthyOnly.action, 'forward', 'a pinned cluster failing only its health checks still gets its webhooks');
  assert.equal(unhealthyOnly.panic, true);
});

test('dial sends a stable share of clients to standby, and raising it only adds clients', () => {
  const at = (percent: number) => runtimeOf({
    routes: [{ name: 'storefront', match: { pathPrefix: '/' }, standby: { cluster: 'promo-standby', dial: percent } }],
  });
  const sides = (runtime: RuntimeConfig) => {
    const standby = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const ip = `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`;
      const d = decide(request(hangzhou, { clientIp: ip, clientKey: ip }), ctx(runtime));
      if (d.action === 'forward' && d.cluster.name === 'promo-standby') standby.add(i);
    }
    return standby;
  };
  const thirty = sides(at(30));
  assert.ok(Math.abs(thirty.size / 5000 - 0.3) <= 0.03, `30% ± 3%, got ${thirty.size / 50}%`);
  assert.deepEqual(sides(at(30)), thirty, 'the same clients every time');
  const forty = sides(at(40));
  for (const i of thirty) assert.ok(forty.has(i), 'raising the dial keeps everyone already on standby');
  assert.ok(Math.abs(forty.size / 5000 - 0.4) <= 0.03);
});

test('dial sources: override beats schedule beats config; schedules ramp', () => {
  const runtime = runtimeOf({
    routes: [{ name: 'storefront', match: { pathPrefix: '/' }, standby: { cluster: 'promo-standby', dial: 5 } }],
    schedules: [{ name: 'double-11', from: '2026-11-10T16:00:00Z', to: '2026-11-12T16:00:00Z', rampMinutes: 60, dials: { storefront: 40 } }],
  });
  const start = Date.parse('2026-11-10T16:00:00Z');
  const dialAt = (nowMs: number, snapshot = emptySnapshot) => decide(request(hangzhou), ctx(runtime, snapshot, { nowMs })).dial;
  assert.deepEqual(dialAt(start - 1), { percent: 5, source: 'config' });
  assert.deepEqual(dialAt(start + 30 * 60_000), { percent: 20, source: 'schedule', schedule: 'double-11' });
  assert.deepEqual(dialAt(start + 90 * 60_000), { percent: 40, source: 'schedule', schedule: 'double-11' });
  const override = snapshotOf({}, { dialOverrides: new Map([['storefront', { percent: 70, expiresAtMs: start + 2 * 3600_000 }]]) });
  assert.equal(dialAt(start + 3600_000, override)?.source, 'override');
  assert.equal(dialAt(start + 3 * 3600_000, override)?.source, 'schedule', 'an expired override no longer applies');
  assert.deepEqual(dialAt(Date.parse('2026-11-12T16:00:00Z')), { percent: 5, source: 'config' });
});

test('overflow spills to standby when the chosen cluster is too busy or slow', () => {
  const runtime = runtimeOf({
    routes: [{ name: 'storefront', match: { pathPrefix: '/' },
      standby: { cluster: 'promo-standby', overflow: { maxInflight: 100, latencyMs: 800 } } }],
  });
  const busy = decide(request(hangzhou), ctx(runtime, snapshotOf({ 'trade-east': { inflight: 101 } })));
  assert.equal(busy.action === 'forward' && busy.cluster.name, 'promo-standby');
  assert.equal(busy.reason, 'overflow');
  const calm = decide(request(hangzhou), ctx(runtime, snapshotOf({ 'trade-east': { inflight: 50 } })));
  assert.equal(calm.action === 'forward' && calm.cluster.name, 'trade-east');
});

test('a recovered cluster waits out the failback hold, then ramps up', () => {
  const runtime = runtimeOf();
  const nowMs = 1_000_000;
  const recovered = (agoMs: number) => snapshotOf({ 'trade-south': { availableSinceMs: nowMs - agoMs } });
  const held = decide(request(guangzhou), ctx(runtime, recovered(5_000)));
  assert.equal(held.action === 'forward' && held.cluster.name, 'trade-east');
  assert.deepEqual(held.candidates.find((c) => c.cluster.name === 'trade-south')!.reasons, ['failback_hold']);
  // half-way through slow start: about half the clients go back
  let back = 0;
  for (let i = 0; i < 100; i++) {
    const d = decide(request(guangzhou), ctx(runtime, recovered(25_000), { random: () => i / 100 }));
    if (d.action === 'forward' && d.cluster.name === 'trade-south') back++;
  }
  assert.equal(back, 50);
  const full = decide(request(guangzhou), ctx(runtime, recovered(60_000)));
  assert.equal(full.action === 'forward' && full.cluster.name, 'trade-south');
});

test('affinity keeps a client on its eligible cluster; fallbacks list the next best', () => {
  const runtime = runtimeOf();
  const sticky = decide(request(guangzhou, { affinityCluster: 'trade-east' }), ctx(runtime));
  assert.equal(sticky.action === 'forward' && sticky.cluster.name, 'trade-east');
  assert.equal(sticky.reason, 'affinity');
  const drained = decide(request(guangzhou, { affinityCluster: 'trade-east' }), ctx(runtime, snapshotOf({ 'trade-east': { drained: true } })));
  assert.equal(drained.action === 'forward' && drained.cluster.name, 'trade-south');
  assert.deepEqual(drained.action === 'forward' && drained.fallbacks.map((c) => c.name), ['trade-eu', 'promo-standby']);
});

test('the chosen cluster and the fallbacks run cheapest first, whatever the configured order', () => {
  const runtime = runtimeOf();
  // A client with no location costs every cluster the same RTT from its region, so latency orders them.
  const unordered = decide(request(undefined), ctx(runtime, snapshotOf({
    'trade-east': { latencyMs: 300 }, 'trade-south': { latencyMs: 100 }, 'trade-eu': { latencyMs: 200 },
  })));
  const costs = new Map(unordered.candidates.map((c) => [c.cluster.name, c.costMs]));
  const expected = ['trade-east', 'trade-south', 'trade-eu'].sort((a, b) => costs.get(a)! - costs.get(b)!);
  assert.equal(unordered.action === 'forward' && unordered.cluster.name, expected[0]);
  assert.deepEqual(unordered.action === 'forward' && unordered.fallbacks.map((c) => c.name), [...expected.slice(1), 'promo-standby']);
  assert.ok(costs.get(expected[0])! < costs.get(expected[1])! && costs.get(expected[1])! < costs.get(expected[2])!, 'three distinct costs');
});

test('no route: reject with no_route; explain renders the SPEC shape', () => {
  const runtime = runtimeOf({ routes: [{ name: 'api', match: { pathPrefix: '/api/' } }] });
  const d = decide(request(guangzhou, { path: '/other' }), ctx(runtime));
  assert.equal(d.action === 'reject' && d.error, 'no_route');
  const explained = explainDecision(decide(request(guangzhou, { path: '/api/x' }), ctx(runtime)), '202.96.128.86', guangzhou);
  assert.equal(explained.route, 'api');
  assert.equal(explained.action, 'forward');
  assert.equal(explained.cluster, 'trade-south');
  assert.deepEqual(explained.client, { ip: '202.96.128.86', country: 'CN', subdivision: 'CN-GD', continent: 'AS' });
  assert.deepEqual(explained.candidates[0], {
    cluster: 'trade-east', role: 'primary', eligible: true, reasons: [], costMs: explained.candidates[0].costMs,
    terms: explained.candidates[0].terms,
  });
});
