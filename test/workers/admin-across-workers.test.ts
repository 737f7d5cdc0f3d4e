/**
 * The admin API of a multi-process gateway with the in-memory state store, where each worker holds its
 * own drains and dials: reloads, drains and dial overrides take effect in every worker (checked by
 * requests that both workers answer), a reload is counted once, a worker restarted later starts with
 * the drains and dials in force, and the API authenticates and answers like a single process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../helpers/upstream.ts';
import { adminToken, gatewayConfig, spawnSwitchyard, waitFor, type SpawnedSwitchyard } from '../helpers/switchyard.ts';
import { accessLines, readyWorkerPids, scrape, sendOnFreshConnections } from '../helpers/workers.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };

async function start(t: Parameters<typeof spawnSwitchyard>[0]): Promise<{ sy: SpawnedSwitchyard; config: ConfigInput }> {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const config = gatewayConfig({ east: east.url, south: south.url, standby: standby.url }, { workers: 2 });
  const sy = await spawnSwitchyard(t, config);
  await waitFor('both workers ready in the log', () => readyWorkerPids(sy).length === 2, 3000);
  return { sy, config };
}

let phase = 0;

/**
 * Sends requests on fresh connections until every current worker answered some (at most 200), and
 * returns the clusters each worker's answers went to.
 */
async function clustersByWorker(sy: SpawnedSwitchyard, workers: readonly number[]): Promise<Map<number, Set<string>>> {
  const path = `/phase-${++phase}`;
  const byWorker = new Map<number, Set<string>>();
  for (let sent = 0; sent < 200 && !workers.every((pid) => byWorker.has(pid)); sent += 20) {
    const answers = await sendOnFreshConnections(`${sy.trafficUrl}${path}`, 20);
    assert.ok(answers.every((a) => a.status === 200), `every ${path} request answered 200`);
    await waitFor(`access lines of ${path}`, () => accessLines(sy).filter((l) => l.path === path).length === sent + 20, 3000);
    byWorker.clear();
    for (const line of accessLines(sy).filter((l) => l.path === path)) {
      const pid = line.pid as number;
      byWorker.set(pid, (byWorker.get(pid) ?? new Set()).add(line.cluster as string));
    }
  }
  assert.deepEqual([...byWorker.keys()].sort(), [...workers].sort(), 'every worker answered');
  return byWorker;
}

function allOn(byWorker: Map<number, Set<string>>): string[] {
  return [...new Set([...byWorker.values()].flatMap((clusters) => [...clusters]))];
}

async function call(sy: SpawnedSwitchyard, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sy.adminUrl}${path}`, { method, headers: auth, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

test('a reload (API or SIGHUP) applies the file in every worker and counts once; a broken file is refused once', async (t) => {
  const { sy, config } = await start(t);
  const workers = readyWorkerPids(sy);
  assert.deepEqual(allOn(await clustersByWorker(sy, workers)), ['trade-east']);

  const southOnly: ConfigInput = { ...config, routes: config.routes!.map((r) => (r.name === 'storefront' ? { ...r, clusters: ['trade-south'] } : r)) };
  await sy.writeConfig(southOnly);
  const reloaded = await call(sy, 'POST', '/api/reload');
  assert.equal(reloaded.status, 200);
  assert.equal(reloaded.body.changed, true);
  const ready = await (await fetch(`${sy.adminUrl}/readyz`)).json() as { version: string };
  assert.equal(ready.version, reloaded.body.version);
  assert.deepEqual(allOn(await clustersByWorker(sy, workers)), ['trade-south'], 'both workers run the new config');
  assert.equal(await scrape(sy.adminUrl, 'switchyard_config_reloads_total', { result: 'success' }), 1, 'one reload, not one per worker');

  await sy.writeConfig({ ...southOnly, workers: 3 });
  assert.equal((await call(sy, 'POST', '/api/reload')).status, 200);
  await waitFor('the restart-only warning', () => sy.logLines().some((l) => l.pid === sy.child.pid && l.level === 40
    && (l.keys as string[] | undefined)?.includes('workers')), 3000);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_workers', { state: 'ready' }), 2, 'workers is restart-only');

  await sy.writeConfig('routes: [ { name: storefront\n');
  const refused = await call(sy, 'POST', '/api/reload');
  assert.equal(refused.status, 400);
  assert.equal(refused.body.error, 'invalid_config');
  assert.ok(Array.isArray(refused.body.issues) && refused.body.issues.length > 0);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_config_reloads_total', { result: 'failure' }), 1);
  assert.equal(await scrape(sy.adminUrl, 'switchyard_config_reloads_total', { result: 'success' }), 2);
  assert.deepEqual(allOn(await clustersByWorker(sy, workers)), ['trade-south'], 'the running config stays');

  await sy.writeConfig(config);
  sy.child.kill('SIGHUP');
  await waitFor('the SIGHUP reload', async () => (await scrape(sy.adminUrl, 'switchyard_config_reloads_total', { result: 'success' })) === 3, 3000);
  assert.deepEqual(allOn(await clustersByWorker(sy, workers)), ['trade-east'], 'SIGHUP to the supervisor reloads every worker');
});

test('drains and dials reach every worker, and a worker restarted later starts with them', async (t) => {
  const { sy } = await start(t);
  const [first, second] = readyWorkerPids(sy);

  const drained = await call(sy, 'PUT', '/api/clusters/trade-east/drain', { drained: true });
  assert.deepEqual(drained, { status: 200, body: { cluster: 'trade-east', drained: true } });
  assert.deepEqual(allOn(await clustersByWorker(sy, [first, second])), ['trade-south']);

  const dialled = await call(sy, 'PUT', '/api/routes/storefront/dial', { percent: 100, ttlSeconds: 600 });
  assert.equal(dialled.status, 200);
  assert.deepEqual(allOn(await clustersByWorker(sy, [first, second])), ['promo-standby']);

  process.kill(first, 'SIGKILL');
  await waitFor('a replacement worker', () => readyWorkerPids(sy).length === 3, 10_000);
  const replacement = readyWorkerPids(sy)[2];
  assert.deepEqual(allOn(await clustersByWorker(sy, [second, replacement])), ['promo-standby'], 'the replacement has the dial');

  assert.equal((await call(sy, 'DELETE', '/api/routes/storefront/dial')).status, 200);
  assert.deepEqual(allOn(await clustersByWorker(sy, [second, replacement])), ['trade-south'], 'and the drain');

  const unknown = await call(sy, 'PUT', '/api/clusters/nope/drain', { drained: true });
  assert.deepEqual([unknown.status, unknown.body.error], [404, 'unknown_cluster'], 'the workers\' own answers come back');
});

test('the supervisor authenticates like a single process and relays reads to a worker', async (t) => {
  const { sy } = await start(t);
  const anonymous = await fetch(`${sy.adminUrl}/api/status`);
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
  assert.equal((await anonymous.json() as { error: string }).error, 'unauthorized');

  const status = await call(sy, 'GET', '/api/status');
  assert.equal(status.status, 200);
  assert.match(String(status.body.instanceId), /-[12]$/, 'a worker\'s own status, as its fleet instance');
  const explain = await call(sy, 'GET', '/api/explain?ip=202.96.128.86&path=/products/1');
  assert.deepEqual([explain.status, explain.body.route, explain.body.action], [200, 'storefront', 'forward']);
  assert.equal((await call(sy, 'GET', '/api/nothing-here')).status, 404);

  const page = await fetch(`${sy.adminUrl}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.ok(page.headers.get('content-security-policy'), 'the status page keeps its headers through the relay');
});
