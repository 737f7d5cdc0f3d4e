import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../helpers/redis.ts';
import { fleetConfig, startFleet, startHealthUpstream, waitFor } from './fleet-fixture.ts';

test('an instance that stops publishing leaves the fleet view after staleAfterMs', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const staleAfterMs = 600;
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] }, staleAfterMs });
  const a = await startFleet(t, config, 'a');
  const b = await startFleet(t, config, 'b');
  await waitFor('A sees B', () => a.snapshot().liveInstances === 2);
  b.observations.cluster('east').begin(); // B's in-flight request counts in the fleet sum while B is live
  await waitFor('A sees B\'s in-flight request', () => a.snapshot().clusters.get('east')?.inflight === 1);

  await b.stop({ deregister: false });
  const lastReportAt = a.status().instances.find((i) => i.id === 'b')!.atMs;
  await waitFor('B goes stale', () => a.snapshot().liveInstances === 1);
  assert.ok(Date.now() - lastReportAt >= staleAfterMs, 'not dropped before it was stale');
  assert.equal(a.snapshot().clusters.get('east')?.inflight, 0);
  assert.deepEqual(a.status().instances.map((i) => i.id), ['a']);
});

test('a clean stop removes the instance at once', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] }, staleAfterMs: 60_000 });
  const a = await startFleet(t, config, 'a');
  const b = await startFleet(t, config, 'b');
  await waitFor('A sees B', () => a.snapshot().liveInstances === 2);
  await b.stop();
  await waitFor('B is gone well before it would be stale', () => a.snapshot().liveInstances === 1);
});
