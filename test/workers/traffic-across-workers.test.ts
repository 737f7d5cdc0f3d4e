/**
 * `workers: 2`: two worker processes bind the traffic port themselves (SO_REUSEPORT) and both answer
 * requests; the supervisor holds no traffic socket and answers none; its /metrics counts every request
 * of both exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, spawnSwitchyard, waitFor } from '../helpers/switchyard.ts';
import { accessLines, answeringPids, listeningSocketsOn, readyWorkerPids, scrape, sendOnFreshConnections } from '../helpers/workers.ts';

test('with workers: 2 both worker processes answer, the supervisor none, and /metrics counts each request once', async (t) => {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const sy = await spawnSwitchyard(t, gatewayConfig({ east: east.url, south: south.url, standby: standby.url }, { workers: 2 }));

  const ready = await (await fetch(`${sy.adminUrl}/readyz`)).json() as { status: string; workers: Record<string, number> };
  assert.equal(ready.status, 'ready');
  assert.equal(ready.workers.ready, 2);
  // The supervisor's log is buffered: its lines arrive within a second.
  await waitFor('both workers in the supervisor\'s log', () => readyWorkerPids(sy).length === 2, 3000);
  const workers = readyWorkerPids(sy);
  assert.equal(new Set(workers).size, 2, 'two worker processes reported ready');
  assert.ok(!workers.includes(sy.child.pid!), 'the workers are not the supervisor');
  const trafficPort = Number(new URL(sy.trafficUrl).port);
  assert.deepEqual(workers.map((pid) => listeningSocketsOn(pid, trafficPort)), [1, 1], 'each worker listens on the traffic port itself (SO_REUSEPORT)');
  assert.equal(listeningSocketsOn(sy.child.pid!, trafficPort), 0, 'the supervisor is not on the data path');

  const sent = 40;
  const answers = await sendOnFreshConnections(`${sy.trafficUrl}/products/1`, sent);
  assert.deepEqual(answers.map((a) => a.status), Array.from({ length: sent }, () => 200));
  assert.equal(east.count(), sent);

  await waitFor('an access line per request', () => accessLines(sy).length === sent, 3000);
  const pids = answeringPids(accessLines(sy));
  assert.deepEqual([...pids].sort(), [...workers].sort(), 'both workers, and only workers, answered');

  assert.equal(await scrape(sy.adminUrl, 'switchyard_requests_total', { route: 'storefront', cluster: 'trade-east', code: '200' }), sent);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_request_duration_seconds_count', { route: 'storefront', cluster: 'trade-east' }), sent);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_workers', { state: 'ready' }), 2);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_worker_restarts_total'), 0);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_cluster_healthy', { cluster: 'trade-east' }), 1, 'fleet-view gauges are not summed');
});
