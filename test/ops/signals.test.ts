/**
 * The process as deployed (`node src/main.ts start`), driven by signals (SPEC §3, §8): SIGHUP with a
 * broken file keeps serving without a single failed request, SIGHUP with a good file applies it, and
 * SIGTERM drains: readiness 503 at once, traffic served through the grace period, the listener
 * closed, in-flight requests completed, exit 0 with the log flushed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, spawnSwitchyard, waitFor } from '../helpers/switchyard.ts';
import { sampleValue } from '../admin/metrics-text.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

async function metric(adminUrl: string, name: string, labels: Record<string, string>): Promise<number | undefined> {
  return sampleValue(await (await fetch(`${adminUrl}/metrics`)).text(), name, labels);
}

test('SIGHUP with a broken file keeps serving with zero failed requests; SIGHUP with a good file applies it', async (t) => {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const config = gatewayConfig({ east: east.url, south: south.url, standby: standby.url });
  const sy = await spawnSwitchyard(t, config);

  const landed = new Map<string, number>();
  const failures: string[] = [];
  let streaming = true;
  const stream = async () => {
    while (streaming) {
      try {
        const res = await fetch(`${sy.trafficUrl}/products/1`);
        await res.arrayBuffer();
        if (res.status !== 200) failures.push(`status ${res.status}`);
        const cluster = res.headers.get('x-switchyard-cluster') ?? 'none';
        landed.set(cluster, (landed.get(cluster) ?? 0) + 1);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const clients = Array.from({ length: 4 }, stream);
  t.after(() => { streaming = false; });

  await waitFor('traffic flowing', () => (landed.get('trade-east') ?? 0) > 20);
  await sy.writeConfig('routes: [ { name: storefront\n');
  sy.child.kill('SIGHUP');
  await waitFor('the broken file to be refused', async () => (await metric(sy.adminUrl, 'switchyard_config_reloads_total', { result: 'failure' })) === 1);
  const eastBefore = landed.get('trade-east')!;
  await waitFor('traffic still flowing on the old config', () => landed.get('trade-east')! > eastBefore + 20);

  const southOnly: ConfigInput = { ...config, routes: config.routes!.map((r) => (r.name === 'storefront' ? { ...r, clusters: ['trade-south'] } : r)) };
  await sy.writeConfig(southOnly);
  sy.child.kill('SIGHUP');
  await waitFor('the good file to apply', () => (landed.get('trade-south') ?? 0) > 20);
  streaming = false;
  await Promise.all(clients);
  assert.deepEqual(failures, [], 'no request failed during either reload');
  assert.equal(await metric(sy.adminUrl, 'switchyard_config_reloads_total', { result: 'success' }), 1);
  await waitFor('the rejection in the log', () => sy.logLines().some((l) => l.msg?.startsWith('config reload rejected')), 3000);
});

test('SIGTERM: readiness 503 at once, serving through the grace period, in-flight requests complete, exit 0', async (t) => {
  const delayMs = 2000;
  const slow = await startUpstream(t, 'slow', (_req, res) => setTimeout(() => res.writeHead(200).end('done'), delayMs));
  const config = gatewayConfig({ east: slow.url, south: slow.url, standby: slow.url }, {
    shutdown: { readinessGraceMs: 300, drainTimeoutMs: 10_000 },
  });
  const sy = await spawnSwitchyard(t, config);
  const inflight = Array.from({ length: 5 }, (_, i) => fetch(`${sy.trafficUrl}/slow/${i}`).then(async (r) => [r.status, await r.text()]));
  await waitFor('every slow request at the upstream', () => slow.count() === 5);

  sy.child.kill('SIGTERM');
  await waitFor('readiness 503', async () => (await fetch(`${sy.adminUrl}/readyz`)).status === 503, 1000);
  const duringGrace = fetch(`${sy.trafficUrl}/during-grace`).then((r) => r.status);
  // Past the grace period the listener is closed, while the slow requests are still being answered.
  await new Promise((resolve) => setTimeout(resolve, 700));
  await assert.rejects(fetch(`${sy.trafficUrl}/after-grace`), 'new connections are refused once the grace period ended');
  assert.equal((await fetch(`${sy.adminUrl}/readyz`)).status, 503, 'the admin listener still answers');

  assert.deepEqual(await Promise.all(inflight), Array.from({ length: 5 }, () => [200, 'done']));
  assert.equal(await duringGrace, 200, 'a request that arrived during the grace period was served');
  const { code, signal } = await sy.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  const lines = sy.logLines();
  assert.ok(lines.some((l) => l.msg === 'shutdown complete'), 'the last line reached stdout: the log was flushed');
  assert.equal(lines.filter((l) => l.msg === 'request' && l.status === 200).length, 6, 'every request has its access line');
});
