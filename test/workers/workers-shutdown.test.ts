/**
 * Shutdown with workers (SPEC §8): SIGTERM to the supervisor makes readiness 503 at once, every worker
 * serves through the grace period, closes its listener and finishes its in-flight requests, and the
 * whole process exits 0 with the admin listener answering to the end. A terminal's Ctrl-C signals the
 * whole process group: the workers leave it to the supervisor, so each drains once, not twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../helpers/client.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, spawnSwitchyard, waitFor } from '../helpers/switchyard.ts';
import { readyWorkerPids } from '../helpers/workers.ts';

test('SIGTERM: readiness 503 at once, every in-flight request completes, exit 0', async (t) => {
  const delayMs = 1500;
  const slow = await startUpstream(t, 'slow', (_req, res) => setTimeout(() => res.writeHead(200).end('done'), delayMs));
  const config = gatewayConfig({ east: slow.url, south: slow.url, standby: slow.url }, {
    workers: 2, shutdown: { readinessGraceMs: 300, drainTimeoutMs: 10_000 },
  });
  const sy = await spawnSwitchyard(t, config);
  const inflight = Array.from({ length: 8 }, (_, i) => send(`${sy.trafficUrl}/slow/${i}`).then((a) => [a.status, a.body.toString()]));
  await waitFor('every slow request at the upstream', () => slow.count() === 8);

  sy.child.kill('SIGTERM');
  await waitFor('readiness 503', async () => (await fetch(`${sy.adminUrl}/readyz`)).status === 503, 1000);
  const duringGrace = send(`${sy.trafficUrl}/during-grace`).then((a) => a.status);
  await new Promise((resolve) => setTimeout(resolve, 700));
  await assert.rejects(send(`${sy.trafficUrl}/after-grace`), 'new connections are refused once every worker closed its listener');
  assert.equal((await fetch(`${sy.adminUrl}/readyz`)).status, 503, 'the admin listener still answers');
  assert.equal((await fetch(`${sy.adminUrl}/api/status`, { headers: { authorization: 'Bearer test-admin-token' } })).status, 200,
    'and still relays to the draining workers');

  assert.deepEqual(await Promise.all(inflight), Array.from({ length: 8 }, () => [200, 'done']));
  assert.equal(await duringGrace, 200, 'a request that arrived during the grace period was served');
  assert.deepEqual(await sy.exited, { code: 0, signal: null });
  const lines = sy.logLines();
  const workers = readyWorkerPids(sy);
  const inflightPids = new Set(lines.filter((l) => l.msg === 'request' && String(l.path).startsWith('/slow/')).map((l) => l.pid));
  assert.equal(lines.filter((l) => l.msg === 'request' && l.status === 200).length, 9, 'every request has its access line');
  assert.ok([...inflightPids].every((pid) => workers.includes(pid as number)), 'workers answered them');
  assert.deepEqual(lines.filter((l) => l.msg === 'shutdown complete').map((l) => l.pid).sort(), [...workers, sy.child.pid].sort(),
    'each worker and the supervisor completed their shutdown');
});

test('Ctrl-C to the whole process group: one drain per worker, led by the supervisor, exit 0', async (t) => {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const config = gatewayConfig({ east: east.url, south: south.url, standby: standby.url }, {
    workers: 2, shutdown: { readinessGraceMs: 200, drainTimeoutMs: 2000 },
  });
  const sy = await spawnSwitchyard(t, config, {}, { detached: true });
  process.kill(-sy.child.pid!, 'SIGINT');
  assert.deepEqual(await sy.exited, { code: 0, signal: null });
  const lines = sy.logLines();
  const workers = readyWorkerPids(sy);
  assert.equal(workers.length, 2);
  for (const pid of workers) {
    const own = lines.filter((l) => l.pid === pid);
    assert.equal(own.filter((l) => l.msg === 'worker: signal left to the supervisor' && l.signal === 'SIGINT').length, 1, `worker ${pid} got the group's SIGINT`);
    assert.equal(own.filter((l) => l.msg === 'shutdown: readiness 503, still serving').length, 1, `worker ${pid} drained once`);
    assert.equal(own.filter((l) => l.msg === 'shutdown complete').length, 1);
  }
  assert.equal(lines.filter((l) => l.pid === sy.child.pid && l.msg === 'shutdown: readiness 503, workers draining').length, 1);
});
