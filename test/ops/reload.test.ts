/**
 * Live reload (SPEC §3): through the API and on file changes (plain writes and ConfigMap symlink
 * swaps), validated first, counted, never applied when invalid; requests in flight finish on their
 * config, even to a cluster the reload removed, whose pool is closed once they are done.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rename, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Socket } from 'node:net';
import { stringify } from 'yaml';
import { startUpstream } from '../helpers/upstream.ts';
import { adminToken, gatewayConfig, startSwitchyard, waitFor, type ClusterUrls, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { sampleValue } from '../admin/metrics-text.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

const auth = { authorization: `Bearer ${adminToken}` };

async function urls(t: TestContext): Promise<ClusterUrls> {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  return { east: east.url, south: south.url, standby: standby.url };
}

/** The same config with storefront served by trade-south only. */
function southOnly(config: ConfigInput): ConfigInput {
  return { ...config, routes: config.routes!.map((r) => (r.name === 'storefront' ? { ...r, clusters: ['trade-south'] } : r)) };
}

async function landsOn(sy: RunningSwitchyard): Promise<string | null> {
  const res = await fetch(`${sy.trafficUrl}/products/1`);
  await res.arrayBuffer();
  return res.headers.get('x-switchyard-cluster');
}

async function reloads(sy: RunningSwitchyard, result: 'success' | 'failure'): Promise<number> {
  return sampleValue(await (await fetch(`${sy.adminUrl}/metrics`)).text(), 'switchyard_config_reloads_total', { result }) ?? 0;
}

test('POST /api/reload applies a valid file and answers its version; an invalid one is refused with positioned issues', async (t) => {
  const config = gatewayConfig(await urls(t));
  const sy = await startSwitchyard(t, config);
  const before = sy.switchyard.runtime.version;
  assert.equal(await landsOn(sy), 'trade-east');

  await sy.writeConfig(`${stringify(config)}\nbogusKey: 1\n`);
  const bad = await fetch(`${sy.adminUrl}/api/reload`, { method: 'POST', headers: auth });
  assert.equal(bad.status, 400);
  const refused = await bad.json() as { error: string; requestId: string; issues: { file: string; line: number; column: number; path: string; message: string }[] };
  assert.equal(refused.error, 'invalid_config');
  assert.equal(refused.issues.length, 1);
  assert.equal(refused.issues[0].file, sy.configFile);
  assert.ok(refused.issues[0].line > 1 && refused.issues[0].column >= 1);
  assert.equal(typeof refused.issues[0].message, 'string');
  assert.equal(sy.switchyard.runtime.version, before, 'the running config stays');
  assert.equal(await landsOn(sy), 'trade-east');
  assert.ok(sy.logs.some((l) => l.msg?.startsWith('config reload rejected')), 'the rejection is logged');

  await sy.writeConfig(southOnly(config));
  const good = await fetch(`${sy.adminUrl}/api/reload`, { method: 'POST', headers: auth });
  assert.equal(good.status, 200);
  const { version, changed } = await good.json() as { version: string; changed: boolean };
  assert.equal(changed, true);
  assert.equal(version, sy.switchyard.runtime.version);
  assert.notEqual(version, before);
  assert.equal(await landsOn(sy), 'trade-south');
  assert.deepEqual([await reloads(sy, 'success'), await reloads(sy, 'failure')], [1, 1]);
});

test('a changed file is reloaded on its own; rewriting or touching it unchanged does not reload', async (t) => {
  const config = gatewayConfig(await urls(t), { reload: { watch: true, debounceMs: 50 } });
  const sy = await startSwitchyard(t, config);
  await sy.writeConfig(config);
  const now = new Date();
  await utimes(sy.configFile, now, now);
  await sy.writeConfig(southOnly(config));
  await waitFor('the file change to apply', async () => (await landsOn(sy)) === 'trade-south');
  assert.equal(await reloads(sy, 'success'), 1, 'one reload for the edits, none for the unchanged writes');
  await sy.writeConfig('clusters: [not, a, map]\n');
  await waitFor('the broken file to be refused', async () => (await reloads(sy, 'failure')) >= 1);
  assert.equal(await landsOn(sy), 'trade-south', 'still serving on the last good config');
});

test('a ConfigMap-style symlink swap of ..data is followed', async (t) => {
  const config = gatewayConfig(await urls(t), { reload: { watch: true, debounceMs: 50 } });
  const sy = await startSwitchyard(t, config);
  const dir = dirname(sy.configFile);
  // Turn the file into the kubelet's layout: file → ..data/file, ..data → ..v1 (same content: no reload).
  const mount = async (version: string, content: ConfigInput) => {
    await mkdir(join(dir, version));
    await writeFile(join(dir, version, 'switchyard.yaml'), sy.render(content));
    await symlink(version, join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  await mount('..v1', config);
  await symlink(join('..data', 'switchyard.yaml'), join(dir, 'link_tmp'));
  await rename(join(dir, 'link_tmp'), sy.configFile);
  await mount('..v2', southOnly(config));
  await waitFor('the swapped config to apply', async () => (await landsOn(sy)) === 'trade-south');
  await unlink(join(dir, '..v1', 'switchyard.yaml'));
  assert.equal(await reloads(sy, 'success'), 1);
});

test('a request in flight to a cluster the reload removes finishes on its config; the pool closes after it', async (t) => {
  const u = await urls(t);
  let release: (() => void) | undefined;
  let upstreamSocket: Socket | undefined;
  const slowSouth = await startUpstream(t, 'slow-south', (req, res) => {
    upstreamSocket = req.socket;
    release = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('finished on the old config');
  });
  const config = gatewayConfig({ ...u, south: slowSouth.url }, { trustedProxies: ['127.0.0.1/32'] });
  const sy = await startSwitchyard(t, config);
  const inflight = fetch(`${sy.trafficUrl}/slow`, { headers: { 'x-forwarded-for': '202.96.128.86' } });
  await waitFor('the request to reach trade-south', () => release !== undefined);
  // Guangdong clients were on trade-south, which the reload removes (SPEC §3: in-flight requests keep theirs).
  const { 'trade-south': _removed, ...clusters } = config.clusters!;
  const routes = config.routes!.map((r) => (r.name === 'storefront' ? { ...r, clusters: ['trade-east'] } : r));
  await sy.writeConfig({ ...config, clusters, routes });
  const result = await sy.switchyard.reload();
  assert.equal(result.ok, true);
  assert.equal(await landsOn(sy), 'trade-east', 'new requests use the new config');
  const socketClosed = new Promise<void>((resolve) => upstreamSocket!.once('close', () => resolve()));
  release!();
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'finished on the old config');
  assert.equal(res.headers.get('x-switchyard-cluster'), 'trade-south');
  // Pooled connections otherwise live for seconds: an early close is the closed pool.
  await Promise.race([socketClosed, new Promise((_, reject) => setTimeout(() => reject(new Error('the removed cluster\'s pool kept its connection')), 2000))]);
});

test('a reload that changes listener addresses or limits warns that they need a restart, and applies the rest', async (t) => {
  const config = gatewayConfig(await urls(t));
  const sy = await startSwitchyard(t, config);
  await sy.writeConfig(southOnly({ ...config, limits: { maxHeaderBytes: 8192, headersTimeoutMs: 5000 } }));
  assert.equal((await sy.switchyard.reload()).ok, true);
  const warning = sy.logs.find((l) => Array.isArray(l.keys));
  assert.deepEqual(warning?.keys, ['limits.maxHeaderBytes', 'limits.headersTimeoutMs']);
  assert.equal(await landsOn(sy), 'trade-south');
});

test('unchanged clusters keep their breaker state across a reload', async (t) => {
  const u = await urls(t);
  const failing = await startUpstream(t, 'failing', (_req, res) => res.writeHead(500).end());
  const base = gatewayConfig({ ...u, east: failing.url });
  const clusters = { ...base.clusters, 'trade-east': { ...base.clusters!['trade-east'], breaker: { volumeThreshold: 2, resetTimeoutMs: 60_000 } } };
  const config = { ...base, clusters };
  const sy = await startSwitchyard(t, config);
  for (let i = 0; i < 3; i++) await (await fetch(`${sy.trafficUrl}/x`)).arrayBuffer();
  assert.equal(sy.switchyard.breakers.state('trade-east'), 'open');
  await sy.writeConfig({ ...config, scoring: { ...config.scoring, tieMs: 1 } });
  assert.equal((await sy.switchyard.reload()).ok, true);
  assert.equal(sy.switchyard.breakers.state('trade-east'), 'open', 'still open after the reload');
});
