/**
 * A worker killed outright: the supervisor logs it with its signal, traffic keeps being answered by
 * the other worker, a new worker takes the slot after the backoff and serves, the restart is counted,
 * and the merged request counter does not go down with the dead worker's process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, spawnSwitchyard, waitFor } from '../helpers/switchyard.ts';
import { accessLines, answeringPids, readyWorkerPids, scrape, sendOnFreshConnections } from '../helpers/workers.ts';

const requestsOk = { route: 'storefront', cluster: 'trade-east', code: '200' };

test('a worker killed with SIGKILL is logged and replaced; traffic keeps succeeding and counters do not go down', async (t) => {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const sy = await spawnSwitchyard(t, gatewayConfig({ east: east.url, south: south.url, standby: standby.url }, { workers: 2 }));
  await waitFor('both workers ready in the log', () => readyWorkerPids(sy).length === 2, 3000);
  const [victim, survivor] = readyWorkerPids(sy);

  const before = await sendOnFreshConnections(`${sy.trafficUrl}/before`, 20);
  assert.ok(before.every((a) => a.status === 200));
  await waitFor('both workers served', () => answeringPids(accessLines(sy)).size === 2, 3000);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_requests_total', requestsOk), 20, 'scraped once before the kill');

  process.kill(victim, 'SIGKILL');
  await waitFor('the supervisor to see the exit', async () => (await scrape(sy.adminUrl, 'switchyard_workers', { state: 'restarting' })) === 1, 3000);
  assert.equal((await fetch(`${sy.adminUrl}/readyz`)).status, 503, 'not every worker is ready');
  // The replacement waits for its backoff (1 s): meanwhile the survivor answers every new connection.
  const during = await sendOnFreshConnections(`${sy.trafficUrl}/during`, 20);
  assert.deepEqual(during.map((a) => a.status), Array.from({ length: 20 }, () => 200));
  await waitFor('the exit in the supervisor\'s log', () => sy.logLines().some((l) => l.msg === 'worker exited unexpectedly; restarting it'), 3000);
  const exit = sy.logLines().find((l) => l.msg === 'worker exited unexpectedly; restarting it')!;
  assert.equal(exit.level, 50, 'logged as an error');
  assert.deepEqual([exit.workerPid, exit.signal, exit.code], [victim, 'SIGKILL', null]);

  await waitFor('a new worker ready', () => readyWorkerPids(sy).length === 3, 10_000);
  const replacement = readyWorkerPids(sy)[2];
  assert.ok(![victim, survivor].includes(replacement), 'a new process');
  assert.equal((await fetch(`${sy.adminUrl}/readyz`)).status, 200);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_worker_restarts_total'), 1);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_workers', { state: 'ready' }), 2);

  const after = await sendOnFreshConnections(`${sy.trafficUrl}/after`, 30);
  assert.ok(after.every((a) => a.status === 200));
  await waitFor('the new worker serving', () => answeringPids(accessLines(sy).filter((l) => l.path === '/after')).has(replacement), 3000);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_requests_total', requestsOk), 70,
    'the killed worker\'s counts (as last scraped) stay in the total');
});
