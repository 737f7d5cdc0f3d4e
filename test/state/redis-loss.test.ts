import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../helpers/redis.ts';
import { fleetConfig, recordingLogger, startFleet, startHealthUpstream, waitFor } from './fleet-fixture.ts';

test('Redis killed: snapshots keep the last-known fleet view; restarted: the fleet view is rebuilt', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } });
  const logger = recordingLogger();
  const a = await startFleet(t, config, 'a', { logger });
  const b = await startFleet(t, config, 'b');
  for (let i = 0; i < 10; i++) {
    b.observations.cluster('east').begin();
    b.observations.cluster('east').end(200, false);
  }
  await waitFor('A sees B and its latency', () => a.snapshot().liveInstances === 2 && a.snapshot().clusters.get('east')!.latencyMs > 150);

  await redis.kill();
  await waitFor('A notices', () => a.snapshot().storeUp === false);
  assert.equal(a.snapshot().liveInstances, 2, 'B\'s last report is kept');
  assert.equal(a.snapshot().clusters.get('east')?.healthy, true);
  for (let i = 0; i < 10; i++) {
    a.observations.cluster('east').begin();
    a.observations.cluster('east').end(20, false);
  }
  // Fresh local observations are merged with B's last report: (10 × 200 + 10 × 20) / 20 = 110 ms.
  await waitFor('local observations still count', () => Math.abs(a.snapshot().clusters.get('east')!.latencyMs - 110) < 0.001);
  assert.ok(logger.lines.some((l) => l.level === 'error' && l.msg.includes('unreachable')));

  const restartedAt = Date.now();
  await redis.restart(); // empty: everything has to be republished
  await waitFor('store up again', () => a.snapshot().storeUp && b.snapshot().storeUp);
  await waitFor('A sees B again', () => a.snapshot().liveInstances === 2
    && (a.status().instances.find((i) => i.id === 'b')?.atMs ?? 0) >= restartedAt);
  await waitFor('B sees A again', () => b.snapshot().liveInstances === 2);
});

test('Redis frozen (SIGSTOP): cycles time out instead of hanging, and recover on SIGCONT', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } });
  const a = await startFleet(t, config, 'a');
  const b = await startFleet(t, config, 'b');
  await waitFor('A sees B', () => a.snapshot().liveInstances === 2);

  redis.pause();
  await waitFor('A notices', () => a.snapshot().storeUp === false);
  const before = a.snapshot();
  await a.refresh();
  assert.notEqual(a.snapshot(), before, 'each cycle still builds a snapshot');
  assert.equal(a.snapshot().liveInstances, 2);

  redis.resume();
  await waitFor('both up again', () => a.snapshot().storeUp && b.snapshot().storeUp && a.snapshot().liveInstances === 2);
});

test('Redis unreachable at start: start() resolves and the instance runs on local state', async (t) => {
  const redis = await startRedis(t);
  await redis.stop();
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } });
  const a = await startFleet(t, config, 'a');
  assert.equal(a.snapshot().storeUp, false);
  await waitFor('probes everything itself once isolated', () => a.snapshot().clusters.get('east')?.healthy === true);

  await redis.restart();
  await waitFor('connects later on its own', () => a.snapshot().storeUp);
});
