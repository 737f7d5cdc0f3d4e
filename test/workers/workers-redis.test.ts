/**
 * Workers with Redis: each worker is its own instance of the fleet (instance id `<base>-<slot>`), so
 * every worker sees its siblings' reports through Redis, and a drain written once through the admin
 * API is in Redis for every worker and every other gateway.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, redisClient } from '../helpers/redis.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { adminToken, gatewayConfig, spawnSwitchyard, waitFor } from '../helpers/switchyard.ts';

const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };

test('with Redis each worker is a fleet instance and sees the others; drains are shared through Redis', async (t) => {
  const redis = await startRedis(t);
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const config = gatewayConfig({ east: east.url, south: south.url, standby: standby.url }, {
    workers: 2, state: { redis: redis.url, publishIntervalMs: 200, staleAfterMs: 2000 },
  });
  const sy = await spawnSwitchyard(t, config, { SWITCHYARD_INSTANCE_ID: 'pod-a' });
  const instances = async () => {
    const status = await (await fetch(`${sy.adminUrl}/api/status`, { headers: auth })).json() as { fleet: { instances: { id: string }[] } };
    return status.fleet.instances.map((i) => i.id).sort();
  };
  await waitFor('both workers in the fleet view', async () => (await instances()).length === 2, 5000);
  assert.deepEqual(await instances(), ['pod-a-1', 'pod-a-2']);

  const drained = await fetch(`${sy.adminUrl}/api/clusters/trade-east/drain`, { method: 'PUT', headers: auth, body: JSON.stringify({ drained: true }) });
  assert.equal(drained.status, 200);
  const keys = await redisClient(t, redis).keys('*drain*');
  assert.equal(keys.length, 1, 'one drain key, whichever worker wrote it');
});
