import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisClient, startRedis } from '../helpers/redis.ts';
import { fleetConfig, recordingLogger, startFleet, startHealthUpstream, waitFor } from './fleet-fixture.ts';

test('values written by something else under the prefix are logged and ignored', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const writer = redisClient(t, redis);
  const now = Date.now();
  await writer.pipeline()
    .set('{sy:}instance:bogus', 'not json')
    .set('{sy:}instance:weird', JSON.stringify({ v: 1, id: 'weird', at: now + 60_000, clusters: { east: { errorRate: 7 } } }))
    .set('{sy:}instance:liar', JSON.stringify({ v: 1, id: 'someone-else', at: now + 60_000, clusters: {} }))
    .zadd('{sy:}instances', now + 60_000, 'bogus', now + 60_000, 'weird', now + 60_000, 'liar')
    .hset('{sy:}drain:east', 'drained', '1')
    .set('{sy:}dial:storefront', JSON.stringify({ percent: 500, expiresAtMs: now + 60_000 }))
    .set('{sy:}dial:checkout', 'yes please')
    .set('{sy:}external:east', '[1, 2]')
    .exec();
  const logger = recordingLogger();
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } });
  const a = await startFleet(t, config, 'a', { logger });
  await waitFor('healthy by own probes', () => a.snapshot().clusters.get('east')?.healthy === true);

  const snapshot = a.snapshot();
  assert.equal(snapshot.storeUp, true);
  assert.equal(snapshot.liveInstances, 1);
  assert.equal(snapshot.clusters.get('east')?.drained, false);
  assert.equal(snapshot.clusters.get('east')?.errorRate, 0);
  assert.equal(snapshot.dialOverrides.size, 0);
  const logged = new Set(logger.lines.filter((l) => l.level === 'warn').map((l) => l.obj.key));
  for (const key of ['instance:bogus', 'instance:weird', 'drain:east', 'dial:storefront', 'dial:checkout', 'external:east']) {
    assert.ok(logged.has(`{sy:}${key}`), `${key} logged`);
  }
  const warnings = logger.lines.length;
  await a.refresh();
  await a.refresh();
  assert.equal(logger.lines.length, warnings, 'a value that stays bad is logged once');
});

test('a membership key of the wrong type is logged and the instance keeps running alone', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const writer = redisClient(t, redis);
  await writer.set('{sy:}instances', 'oops');
  const logger = recordingLogger();
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } });
  const a = await startFleet(t, config, 'a', { logger });
  await waitFor('healthy by own probes', () => a.snapshot().clusters.get('east')?.healthy === true);
  assert.equal(a.snapshot().storeUp, true);
  assert.ok(logger.lines.some((l) => l.obj.key === '{sy:}instances'));

  await writer.del('{sy:}instances');
  const b = await startFleet(t, config, 'b');
  await waitFor('the fleet forms once the key is fixed', () => a.snapshot().liveInstances === 2 && b.snapshot().liveInstances === 2);
});
