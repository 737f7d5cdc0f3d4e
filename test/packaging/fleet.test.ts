/**
 * `npm run fleet` starts a private Redis, the demo clusters and several gateways that share state:
 * a drain made on one instance changes where another one routes, and Ctrl-C stops everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { freePort, repoRoot, sleep, spawnChild } from './processes.ts';

const startTimeoutMs = 30_000;
const propagationTimeoutMs = 10_000;
const guangzhou = { 'x-forwarded-for': '202.96.128.86' };

/** The demo config with every endpoint moved to a free port, so a running `npm run demo` does not collide. */
async function demoConfigOnFreePorts(dir: string): Promise<string> {
  const doc = parseDocument(readFileSync(join(repoRoot, 'config/switchyard.yaml'), 'utf8'));
  const clusters = doc.toJS().clusters as Record<string, { endpoints: string[] }>;
  for (const [name, cluster] of Object.entries(clusters)) {
    const endpoints = await Promise.all(cluster.endpoints.map(async () => `http://127.0.0.1:${await freePort()}`));
    doc.setIn(['clusters', name, 'endpoints'], doc.createNode(endpoints));
  }
  const file = join(dir, 'fleet.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function landsOn(trafficUrl: string): Promise<string | null> {
  const res = await fetch(`${trafficUrl}/products/42`, { headers: guangzhou });
  await res.arrayBuffer();
  return res.headers.get('x-switchyard-cluster');
}

test('a local fleet shares drains through its own Redis and stops cleanly on Ctrl-C', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-fleet-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = await demoConfigOnFreePorts(dir);
  const fleet = spawnChild(t, process.execPath, ['src/demo/fleet.ts', '--instances', '2', '-c', config], { cwd: repoRoot });

  const deadline = Date.now() + startTimeoutMs;
  while (!fleet.output().includes('Fleet ready.') && fleet.process.exitCode === null && Date.now() < deadline) await sleep(100);
  const output = fleet.output();
  // The gateways and Redis run in their own process groups: kill them by pid whatever happens below.
  const pids = [...output.matchAll(/\bpid (\d+)/g)].map((m) => Number(m[1]));
  t.after(() => pids.filter(isRunning).forEach((pid) => process.kill(pid, 'SIGKILL')));
  // A fleet killed by the test runner cannot remove its own files.
  const fleetDir = /files in (\S+)/.exec(output)?.[1];
  if (fleetDir !== undefined) t.after(() => rmSync(fleetDir, { recursive: true, force: true }));
  assert.ok(output.includes('Fleet ready.'), `the fleet started:\n${output}`);
  const instances = [...output.matchAll(/(fleet-\d)\s+traffic (\S+)\s+admin (\S+)/g)].map(([, id, traffic, admin]) => ({ id, traffic, admin }));
  assert.deepEqual(instances.map((i) => i.id), ['fleet-1', 'fleet-2']);
  assert.equal(pids.length, 3, 'redis and two gateways');

  for (const instance of instances) assert.equal(await landsOn(instance.traffic), 'trade-south', `${instance.id} routes Guangzhou to trade-south`);

  // The banner's commands carry the token the config resolved (SWITCHYARD_ADMIN_TOKEN may override the demo's).
  const token = /Authorization: Bearer (\S+)'/.exec(output)?.[1];
  const drain = await fetch(`${instances[0].admin}/api/clusters/trade-south/drain`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"drained": true}',
  });
  assert.equal(drain.status, 200, await drain.text());
  const drainedBy = Date.now() + propagationTimeoutMs;
  while (await landsOn(instances[1].traffic) === 'trade-south' && Date.now() < drainedBy) await sleep(100);
  assert.equal(await landsOn(instances[1].traffic), 'trade-east', 'fleet-2 follows the drain made on fleet-1');

  fleet.process.kill('SIGINT');
  assert.equal(await fleet.exited(15_000), 0, fleet.output());
  assert.deepEqual(pids.filter(isRunning), [], 'no gateway or Redis outlives the fleet');
});
