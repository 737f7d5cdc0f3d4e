import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, startRedisCluster, startSentinel } from '../helpers/redis.ts';
import { fleetConfig, startFleet, startHealthUpstream, waitFor } from './fleet-fixture.ts';

/** Two instances share latency, health and a drain through the given Redis URL. */
async function fleetWorksThrough(t: import('node:test').TestContext, url: string): Promise<void> {
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: url, clusters: { east: [upstream.url] } });
  const a = await startFleet(t, config, 'a');
  const b = await startFleet(t, config, 'b');
  await waitFor('both see each other', () => a.snapshot().liveInstances === 2 && b.snapshot().liveInstances === 2);
  a.observations.cluster('east').begin();
  a.observations.cluster('east').end(321, false);
  await a.setDrain('east', true);
  await waitFor('B sees A\'s latency and drain', () => b.snapshot().clusters.get('east')?.latencyMs === 321
    && b.snapshot().clusters.get('east')?.drained === true);
  assert.equal(b.snapshot().storeUp, true);
  assert.equal(b.snapshot().clusters.get('east')?.healthy, true);
}

test('the fleet state works on Redis Cluster (every key in one slot)', async (t) => {
  const cluster = await startRedisCluster(t, 3);
  await fleetWorksThrough(t, cluster.url);
});

test('the fleet state works through Redis Sentinel', async (t) => {
  const master = await startRedis(t);
  const sentinel = await startSentinel(t, master);
  await fleetWorksThrough(t, sentinel.url);
});
