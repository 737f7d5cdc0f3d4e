/**
 * Starting with workers: a worker that cannot start (here: its geo database cannot be opened) stops
 * the whole start with exit 1 and a fatal line naming the worker, as a single process would exit 1,
 * instead of a supervisor restarting workers that can never serve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, spawnSwitchyard } from '../helpers/switchyard.ts';

test('a worker that cannot start makes start exit 1 without restarting it', async (t) => {
  const upstream = await startUpstream(t, 'any');
  const config = gatewayConfig({ east: upstream.url, south: upstream.url, standby: upstream.url }, {
    workers: 2, geo: { database: '/nonexistent/GeoLite2-City.mmdb', defaultRegion: 'east-china' },
  });
  const started = spawnSwitchyard(t, config);
  await assert.rejects(started, (err: Error) => {
    assert.match(err.message, /switchyard exited with 1/);
    const lines = err.message.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; level: number });
    assert.ok(lines.some((l) => l.msg === 'worker could not start' && l.level === 60), 'the worker says why');
    assert.ok(lines.some((l) => l.msg === 'worker exited before it was ready; not starting' && l.level === 60), 'the supervisor gives up');
    assert.ok(!lines.some((l) => l.msg === 'worker exited unexpectedly; restarting it'), 'no restart loop');
    return true;
  });
});
