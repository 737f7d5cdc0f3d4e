import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisClient, startRedis } from '../helpers/redis.ts';
import { fleetConfig, startFleet, startHealthUpstream, waitFor } from './fleet-fixture.ts';

test('fleet health is decided by quorum: all failing flips it, one instance failing alone does not', async (t) => {
  const redis = await startRedis(t);
  const down = await startHealthUpstream(t);
  const partial = await startHealthUpstream(t);
  down.status = () => 503;
  partial.status = (prober) => (prober === 'c' ? 500 : 200); // only instance c's probes fail
  const config = fleetConfig({ redis: redis.url, clusters: { down: [down.url], partial: [partial.url] } });
  const fleets = [await startFleet(t, config, 'a'), await startFleet(t, config, 'b'), await startFleet(t, config, 'c')];
  await waitFor('three live instances with verdicts', () => fleets.every((f) =>
    f.snapshot().liveInstances === 3 && f.status().clusters.partial.healthReports === 3 && f.status().clusters.down.healthReports === 3));

  for (const fleet of fleets) {
    assert.equal(fleet.snapshot().clusters.get('down')?.healthy, false);
    assert.equal(fleet.snapshot().clusters.get('partial')?.healthy, true);
    assert.equal(fleet.snapshot().clusters.get('partial')?.endpoints?.[0].healthy, true);
  }
  assert.equal(fleets[2].status().clusters.partial.reports.c.healthy, false, 'c itself sees it down');

  partial.status = (prober) => (prober === 'a' ? 200 : 500); // now two of three fail
  await waitFor('majority flips the fleet view', () => fleets.every((f) => f.snapshot().clusters.get('partial')?.healthy === false));
});

test('an external health feed counts as one more report', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } });
  const a = await startFleet(t, config, 'a');
  await waitFor('healthy by own probes', () => a.snapshot().clusters.get('east')?.healthy === true);

  const feeder = redisClient(t, redis);
  await feeder.set('{sy:}external:east', JSON.stringify({ healthy: false, source: 'blackbox' }), 'PX', 60_000);
  // One healthy instance against one external "down": no strict majority sees it healthy.
  await waitFor('external report tips a tie', () => a.snapshot().clusters.get('east')?.healthy === false);
  assert.equal(a.status().clusters.east.external?.source, 'blackbox');

  const b = await startFleet(t, config, 'b');
  await waitFor('two instances outvote the feed', () =>
    a.snapshot().clusters.get('east')?.healthy === true && b.snapshot().clusters.get('east')?.healthy === true);
});
