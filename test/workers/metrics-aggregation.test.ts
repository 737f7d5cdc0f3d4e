/**
 * Merging workers' metrics into one /metrics, on the registries of two real gateways: requests and
 * histograms are summed, fleet-view gauges show the worst view instead of a sum, every gauge has a
 * decided aggregation, and the counts of a worker that exited stay in the totals (never its gauges).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../helpers/upstream.ts';
import { freePort, gatewayConfig, startSwitchyard, waitFor, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { parseSamples, sampleValue } from '../admin/metrics-text.ts';
import { aggregateMetrics, fleetViewAggregators } from '../../src/workers/metrics-aggregation.ts';
import { ExitedWorkerCounters } from '../../src/workers/exited-worker-counters.ts';
import type { MetricsJson } from '../../src/workers/protocol.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

/** Gauges of one process that are meant to be summed across workers. */
const perProcessGauges = ['switchyard_cluster_inflight'];

async function json(sy: RunningSwitchyard): Promise<MetricsJson> {
  return sy.switchyard.metrics.registry.getMetricsAsJSON();
}

async function requests(sy: RunningSwitchyard, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await (await fetch(`${sy.trafficUrl}/products/${i}`)).arrayBuffer();
}

test('counters and histograms are summed, fleet-view gauges show the worst worker view', async (t) => {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const deadSouth = `http://127.0.0.1:${await freePort()}`;
  const dialled = (config: ConfigInput): ConfigInput => ({
    ...config, routes: config.routes!.map((r) => (r.name === 'storefront' ? { ...r, standby: { cluster: 'promo-standby', dial: 30 } } : r)),
  });
  // trade-south refuses connections, so it is down after two quick probes; trade-east must not go down
  // because one probe on a busy machine took longer than its timeout (a 50 ms timeout once did, in a
  // full suite run), since the assertions below read its health as 1.
  const quickProbes = { healthCheck: { intervalMs: 250, timeoutMs: 200, unhealthyThreshold: 2, healthyThreshold: 1 } };
  const withProbes = (config: ConfigInput): ConfigInput => ({
    ...config, clusters: Object.fromEntries(Object.entries(config.clusters!).map(([name, c]) => [name, { ...c, ...quickProbes }])),
  });
  const a = await startSwitchyard(t, withProbes(dialled(gatewayConfig({ east: east.url, south: deadSouth, standby: standby.url }))), { instanceId: 'a' });
  const b = await startSwitchyard(t, withProbes(dialled(gatewayConfig({ east: east.url, south: south.url, standby: standby.url }))), { instanceId: 'b' });
  await waitFor('a to see trade-south down', async () => sampleValue(await a.switchyard.metrics.scrape(), 'switchyard_cluster_healthy', { cluster: 'trade-south' }) === 0);
  await requests(a, 3);
  await requests(b, 5);

  const merged = await aggregateMetrics([await json(a), await json(b)]);
  const value = (name: string, labels: Record<string, string> = {}) => sampleValue(merged, name, labels);
  const total = (name: string) => parseSamples(merged).filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
  assert.equal(total('switchyard_requests_total'), 8);
  assert.equal(total('switchyard_request_duration_seconds_count'), 8);
  const infBuckets = parseSamples(merged).filter((s) => s.name === 'switchyard_request_duration_seconds_bucket' && s.labels.le === '+Inf');
  assert.equal(infBuckets.reduce((sum, s) => sum + s.value, 0), 8, 'buckets are summed too');

  assert.equal(value('switchyard_cluster_healthy', { cluster: 'trade-south' }), 0, 'unhealthy when any worker sees it so');
  assert.equal(value('switchyard_cluster_healthy', { cluster: 'trade-east' }), 1, 'not 2');
  assert.equal(value('switchyard_state_store_up'), 1);
  assert.equal(value('switchyard_dial_percent', { route: 'storefront' }), 30, 'not 60');
  assert.equal(value('switchyard_breaker_state', { cluster: 'trade-east' }), 0);
  assert.equal(parseSamples(merged).filter((s) => s.name === 'nodejs_version_info').length, 1, 'Node defaults keep prom-client\'s aggregators');
});

test('every gauge of a worker is either a fleet view or summed on purpose', async (t) => {
  const upstream = await startUpstream(t, 'any');
  const sy = await startSwitchyard(t, gatewayConfig({ east: upstream.url, south: upstream.url, standby: upstream.url }));
  const gauges = (await json(sy)).filter((m) => String(m.type) === 'gauge' && m.name.startsWith('switchyard_')).map((m) => m.name);
  assert.ok(gauges.length > 0);
  for (const name of gauges) {
    assert.ok(name in fleetViewAggregators || perProcessGauges.includes(name), `${name}: add it to fleetViewAggregators, or here if summing it is right`);
  }
});

test('an exited worker\'s counters stay in the totals; its gauges and later scrapes do not', async () => {
  const exited = new ExitedWorkerCounters();
  const worker = (requests: number, inflight: number): MetricsJson => [
    { name: 'switchyard_requests_total', help: 'requests', type: 'counter', aggregator: 'sum', values: [{ labels: { code: '200' }, value: requests }] },
    { name: 'switchyard_cluster_inflight', help: 'inflight', type: 'gauge', aggregator: 'sum', values: [{ labels: {}, value: inflight }] },
  ] as unknown as MetricsJson;
  exited.scraped(101, worker(10, 4));
  exited.scraped(101, worker(12, 4));
  exited.exited(101);
  exited.scraped(101, worker(99, 9));
  assert.equal(exited.hasExited(101), true);
  const merged = await aggregateMetrics([...await exited.totals(), worker(3, 1)]);
  assert.equal(sampleValue(merged, 'switchyard_requests_total', { code: '200' }), 15, 'the last scrape before the exit, plus the live worker');
  assert.equal(sampleValue(merged, 'switchyard_cluster_inflight'), 1, 'gauges of a dead process are not kept');
  assert.deepEqual(await new ExitedWorkerCounters().totals(), []);
});
