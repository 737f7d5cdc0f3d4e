import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../helpers/redis.ts';
import { fleetConfig, startFleet, startHealthUpstream, waitFor } from './fleet-fixture.ts';

test('latency observed by one instance shows in another instance\'s snapshot', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } });
  const a = await startFleet(t, config, 'a');
  const b = await startFleet(t, config, 'b');
  await waitFor('both instances see each other', () => a.snapshot().liveInstances === 2 && b.snapshot().liveInstances === 2);

  const east = a.observations.cluster('east');
  for (let i = 0; i < 20; i++) {
    east.begin();
    east.end(400, i % 4 === 0);
  }
  east.begin(); // one still in flight

  await waitFor('B sees A\'s latency', () => (b.snapshot().clusters.get('east')?.latencyMs ?? 0) > 300);
  const view = b.snapshot().clusters.get('east')!;
  assert.ok(view.p99Ms >= 400, `p99 ${view.p99Ms}`);
  assert.equal(view.errorRate, 0.25);
  assert.equal(view.inflight, 1);
  assert.equal(view.healthy, true);
  assert.equal(b.snapshot().storeUp, true);
});

test('an instance without traffic does not dilute the fleet average', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } });
  const a = await startFleet(t, config, 'a');
  const b = await startFleet(t, config, 'b');
  for (let i = 0; i < 10; i++) {
    a.observations.cluster('east').begin();
    a.observations.cluster('east').end(100, false);
  }
  for (let i = 0; i < 30; i++) {
    b.observations.cluster('east').begin();
    b.observations.cluster('east').end(20, false);
  }
  // Weighted by requests: (10 × 100 + 30 × 20) / 40 = 40 ms, on both instances.
  for (const fleet of [a, b]) {
    await waitFor('the weighted average', () => Math.abs((fleet.snapshot().clusters.get('east')?.latencyMs ?? 0) - 40) < 0.001);
  }
});
