/**
 * /metrics exports every SPEC §7 metric, and each one moves with what happens: traffic, retries,
 * pinned-route refusals, breakers, health, in-flight, dial overrides, reloads and geo lookups.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { refusalReasons } from '../../src/proxy/refusals.ts';
import { startRedis } from '../helpers/redis.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { adminToken, gatewayConfig, startSwitchyard, waitFor, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { declaredMetrics, parseSamples, sampleValue, specMetricNames } from './metrics-text.ts';

const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };

interface Setup {
  sy: RunningSwitchyard;
  east: Upstream;
  south: Upstream;
  standby: Upstream;
  scrape(): Promise<string>;
}

async function setup(t: TestContext, fastHealth = false): Promise<Setup> {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const base = gatewayConfig({ east: east.url, south: south.url, standby: standby.url });
  const healthCheck = fastHealth ? { intervalMs: 100, timeoutMs: 50, healthyThreshold: 1, unhealthyThreshold: 1 } : {};
  const breaker = { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 };
  const clusters = Object.fromEntries(Object.entries(base.clusters).map(([name, c]) => [name, { ...c, healthCheck, breaker }]));
  const sy = await startSwitchyard(t, { ...base, clusters, trustedProxies: ['127.0.0.1/32'] });
  return { sy, east, south, standby, scrape: async () => (await fetch(`${sy.adminUrl}/metrics`)).text() };
}

test('every SPEC §7 metric is declared from the start, with Node defaults', async (t) => {
  const { scrape } = await setup(t);
  const text = await scrape();
  const declared = declaredMetrics(text);
  for (const name of specMetricNames) assert.ok(declared.has(name), `${name} is exported`);
  assert.ok(declared.has('process_cpu_user_seconds_total') && declared.has('nodejs_eventloop_lag_seconds'), 'Node default metrics');
  assert.equal(sampleValue(text, 'switchyard_state_store_up'), 1, 'the in-memory store is up');
  assert.equal(sampleValue(text, 'switchyard_spooled_total'), 0);
  assert.equal(sampleValue(text, 'switchyard_config_reloads_total', { result: 'failure' }), 0);
  for (const route of ['storefront', 'payment-webhooks']) {
    for (const name of ['switchyard_retries_total', 'switchyard_panic_total', 'switchyard_pinned_unavailable_total']) {
      assert.equal(sampleValue(text, name, { route }), 0, `${name}{route="${route}"} starts at 0`);
    }
  }
  for (const cluster of ['trade-east', 'trade-south', 'promo-standby']) {
    assert.equal(sampleValue(text, 'switchyard_breaker_state', { cluster }), 0);
    assert.equal(sampleValue(text, 'switchyard_cluster_healthy', { cluster }), 1);
    assert.equal(sampleValue(text, 'switchyard_cluster_inflight', { cluster }), 0);
  }
});

test('requests, durations, retries, pinned refusals and geo lookups count with the right, bounded labels', async (t) => {
  const { sy, south, scrape } = await setup(t);
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${sy.trafficUrl}/products/${i}?q=1`)).status, 200);
  let text = await scrape();
  assert.equal(sampleValue(text, 'switchyard_requests_total', { route: 'storefront', cluster: 'trade-east', code: '200' }), 3);
  assert.equal(sampleValue(text, 'switchyard_request_duration_seconds_count', { route: 'storefront', cluster: 'trade-east' }), 3);
  assert.ok(sampleValue(text, 'switchyard_request_duration_seconds_sum', { route: 'storefront', cluster: 'trade-east' })! > 0);
  assert.equal(sampleValue(text, 'switchyard_request_duration_seconds_bucket', { route: 'storefront', cluster: 'trade-east', le: '30' }), 3);
  assert.equal(sampleValue(text, 'switchyard_upstream_duration_seconds_count', { cluster: 'trade-east' }), 3);
  const geo = (result: string) => sampleValue(text, 'switchyard_geo_lookups_total', { result })!;
  assert.equal(geo('none'), 1, 'a local client has no geo, once; then it is cached');
  assert.equal(geo('hit'), 2);

  // A public client address: looked up once in the database, then answered from the cache.
  for (let i = 0; i < 2; i++) await (await fetch(`${sy.trafficUrl}/`, { headers: { 'x-forwarded-for': '202.96.128.86' } })).arrayBuffer();
  text = await scrape();
  assert.equal(geo('miss'), 1);
  assert.equal(geo('hit'), 3);

  // Guangdong → trade-south, which answers 503: the GET is retried on trade-east.
  south.behave((_req, res) => res.writeHead(503).end());
  assert.equal((await fetch(`${sy.trafficUrl}/retry-me`, { headers: { 'x-forwarded-for': '202.96.128.86' } })).status, 200);
  text = await scrape();
  assert.equal(sampleValue(text, 'switchyard_retries_total', { route: 'storefront' }), 1);

  const drained = await fetch(`${sy.adminUrl}/api/clusters/trade-east/drain`, { method: 'PUT', headers: auth, body: '{"drained":true}' });
  assert.equal(drained.status, 200);
  const webhook = await fetch(`${sy.trafficUrl}/webhooks/payment/alipay`, { method: 'POST', body: '{"paid":true}' });
  assert.equal(webhook.status, 503);
  text = await scrape();
  assert.equal(sampleValue(text, 'switchyard_requests_total', { route: 'payment-webhooks', cluster: 'none', code: '503' }), 1);
  assert.equal(sampleValue(text, 'switchyard_pinned_unavailable_total', { route: 'payment-webhooks' }), 1);

  // Bounded labels: names from the config (or none), numeric codes, fixed results, histogram buckets.
  const allowed: Record<string, Set<string> | RegExp> = {
    route: new Set(['storefront', 'payment-webhooks', 'none']),
    cluster: new Set(['trade-east', 'trade-south', 'promo-standby', 'none']),
    code: /^[1-5]\d\d$/, result: new Set(['success', 'failure', 'hit', 'miss', 'none', 'error']), le: /^[\d.e+-]+$|^\+Inf$/,
    reason: new Set(refusalReasons),
  };
  for (const sample of parseSamples(text).filter((s) => s.name.startsWith('switchyard_'))) {
    for (const [label, value] of Object.entries(sample.labels)) {
      const rule = allowed[label];
      assert.ok(rule !== undefined, `${sample.name} has an unexpected label ${label}`);
      assert.ok(rule instanceof RegExp ? rule.test(value) : rule.has(value), `${sample.name}{${label}="${value}"}`);
    }
  }
});

test('what the listener refuses before routing counts by reason and is logged once per reason and window', async (t) => {
  const { sy, scrape } = await setup(t);
  let text = await scrape();
  for (const reason of refusalReasons) assert.equal(sampleValue(text, 'switchyard_listener_refusals_total', { reason }), 0, `${reason} starts at 0`);
  const port = Number(new URL(sy.trafficUrl).port);
  const raw = (bytes: string) => new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk) => { answer += chunk.toString('latin1'); });
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
  });
  for (let i = 0; i < 3; i++) assert.match(await raw('NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.match(await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'), /^HTTP\/1\.1 405 /);
  assert.match(await raw('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 /);
  text = await scrape();
  assert.equal(sampleValue(text, 'switchyard_listener_refusals_total', { reason: 'bad_request' }), 4);
  assert.equal(sampleValue(text, 'switchyard_listener_refusals_total', { reason: 'method_not_allowed' }), 1);
  assert.equal(sampleValue(text, 'switchyard_listener_refusals_total', { reason: 'max_connections' }), 0);
  const lines = sy.logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('request refused by the listener'));
  assert.deepEqual(lines.map((line) => line.reason).sort(), ['bad_request', 'method_not_allowed'], 'the first of each reason is logged; the rest wait for the window');
});

test('breaker_state, cluster_healthy, cluster_inflight and dial_percent follow the live state', async (t) => {
  const { sy, east, standby, scrape } = await setup(t, true);
  standby.healthStatus = 500;
  await waitFor('promo-standby seen unhealthy', async () => sampleValue(await scrape(), 'switchyard_cluster_healthy', { cluster: 'promo-standby' }) === 0);

  let release: (() => void) | undefined;
  east.behave((_req, res) => { release = () => res.writeHead(200).end('slow'); });
  const slow = fetch(`${sy.trafficUrl}/slow`);
  await waitFor('one request in flight to trade-east', async () => release !== undefined
    && sampleValue(await scrape(), 'switchyard_cluster_inflight', { cluster: 'trade-east' }) === 1);
  release!();
  assert.equal((await slow).status, 200);
  assert.equal(sampleValue(await scrape(), 'switchyard_cluster_inflight', { cluster: 'trade-east' }), 0);

  east.behave((_req, res) => res.writeHead(500).end());
  for (let i = 0; i < 3; i++) await (await fetch(`${sy.trafficUrl}/fail`)).arrayBuffer();
  assert.equal(sampleValue(await scrape(), 'switchyard_breaker_state', { cluster: 'trade-east' }), 2, 'open after repeated 500s');

  assert.equal(sampleValue(await scrape(), 'switchyard_dial_percent', { route: 'storefront' }), 0);
  const dial = await fetch(`${sy.adminUrl}/api/routes/storefront/dial`, { method: 'PUT', headers: auth, body: '{"percent":40,"ttlSeconds":600}' });
  assert.equal(dial.status, 200);
  assert.equal(sampleValue(await scrape(), 'switchyard_dial_percent', { route: 'storefront' }), 40);
});

test('panic_total counts requests served with health ignored; config_reloads_total counts good and bad reloads', async (t) => {
  const { sy, east, south, standby, scrape } = await setup(t, true);
  for (const u of [east, south, standby]) u.healthStatus = 500;
  await waitFor('every cluster seen unhealthy', async () => {
    const text = await scrape();
    return ['trade-east', 'trade-south', 'promo-standby'].every((cluster) => sampleValue(text, 'switchyard_cluster_healthy', { cluster }) === 0);
  });
  assert.equal((await fetch(`${sy.trafficUrl}/still-served`)).status, 200, 'panic: health alone never takes everything down');
  assert.ok(sampleValue(await scrape(), 'switchyard_panic_total', { route: 'storefront' })! >= 1);

  assert.equal((await fetch(`${sy.adminUrl}/api/reload`, { method: 'POST', headers: { authorization: auth.authorization } })).status, 200);
  await writeFile(sy.configFile, 'routes: [ {\n');
  assert.equal((await fetch(`${sy.adminUrl}/api/reload`, { method: 'POST', headers: { authorization: auth.authorization } })).status, 400);
  const text = await scrape();
  assert.equal(sampleValue(text, 'switchyard_config_reloads_total', { result: 'success' }), 1);
  assert.equal(sampleValue(text, 'switchyard_config_reloads_total', { result: 'failure' }), 1);
});

test('a webhook spooled while its cluster is drained counts in spooled_total, not as refused', async (t) => {
  const redis = await startRedis(t);
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const base = gatewayConfig({ east: east.url, south: south.url, standby: standby.url });
  const routes = base.routes!.map((r) => (r.name === 'payment-webhooks' ? { ...r, spool: { enabled: true } } : r));
  const sy = await startSwitchyard(t, { ...base, routes, state: { ...base.state, redis: redis.url } });
  const drained = await fetch(`${sy.adminUrl}/api/clusters/trade-east/drain`, { method: 'PUT', headers: auth, body: '{"drained":true}' });
  assert.equal(drained.status, 200);
  const webhook = await fetch(`${sy.trafficUrl}/webhooks/payment/alipay`, { method: 'POST', body: '{"paid":true}' });
  assert.equal(webhook.status, 202);
  const text = await (await fetch(`${sy.adminUrl}/metrics`)).text();
  assert.equal(sampleValue(text, 'switchyard_spooled_total'), 1);
  assert.equal(sampleValue(text, 'switchyard_pinned_unavailable_total', { route: 'payment-webhooks' }), 0);
  assert.equal(sampleValue(text, 'switchyard_requests_total', { route: 'payment-webhooks', cluster: 'none', code: '202' }), 1);
  // The spool's depth is read by its replayer's cycle, so /api/status shows it shortly after.
  await waitFor('the spool depth in /api/status', async () => {
    const status = await (await fetch(`${sy.adminUrl}/api/status`, { headers: auth })).json() as { spool: { route: string; depth: number }[] };
    return JSON.stringify(status.spool.map((s) => [s.route, s.depth])) === JSON.stringify([['payment-webhooks', 1]]);
  });
});
