/**
 * The admin API acts on the real gateway (SPEC §7): explain tells what decide() says, drains and dial
 * overrides change where traffic goes, the status document has everything the page shows and no
 * secrets, the log level changes at runtime, and every change leaves an audit line without the token.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../helpers/redis.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { adminToken, gatewayConfig, startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };

async function setup(t: TestContext, overrides = {}): Promise<RunningSwitchyard> {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  return startSwitchyard(t, gatewayConfig({ east: east.url, south: south.url, standby: standby.url }, overrides));
}

async function api(sy: RunningSwitchyard, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sy.adminUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() as Record<string, unknown> };
}

async function landsOn(sy: RunningSwitchyard, ip = '127.0.0.1'): Promise<string | null> {
  const res = await fetch(`${sy.trafficUrl}/products/1`, { headers: { 'x-forwarded-for': ip } });
  await res.arrayBuffer();
  return res.headers.get('x-switchyard-cluster');
}

test('explain answers what decide() answers for such a request, in the SPEC §7 shape', async (t) => {
  const sy = await setup(t);
  const { status, json } = await api(sy, 'GET', '/api/explain?ip=202.96.128.86&method=get&path=/products/42');
  assert.equal(status, 200);
  assert.equal(json.route, 'storefront');
  assert.equal(json.action, 'forward');
  assert.equal(json.cluster, 'trade-south', 'Guangdong is nearest trade-south');
  assert.deepEqual(json.client, { ip: '202.96.128.86', country: 'CN', subdivision: 'CN-GD', continent: 'AS' });
  assert.deepEqual(json.dial, { percent: 0, source: 'config' });
  const candidates = json.candidates as { cluster: string; eligible: boolean; costMs: number | null }[];
  assert.deepEqual(candidates.map((c) => c.cluster).sort(), ['promo-standby', 'trade-east', 'trade-south']);

  const pinned = await api(sy, 'GET', '/api/explain?ip=8.8.8.8&method=POST&path=/webhooks/payment/x');
  assert.equal(pinned.json.route, 'payment-webhooks');
  assert.equal(pinned.json.cluster, 'trade-east');
  assert.equal(pinned.json.reason, 'pinned');

  const bad = await api(sy, 'GET', '/api/explain?ip=not-an-ip');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'invalid_request');
  assert.equal(typeof bad.json.requestId, 'string');
});

test('draining a cluster moves its traffic; undraining brings it back; unknown names and bad bodies are refused', async (t) => {
  // No failback hold: the undrained cluster takes its traffic back at once.
  const sy = await setup(t, { scoring: { kmPerMs: 1, failbackHoldMs: 0, slowStartMs: 0 } });
  assert.equal(await landsOn(sy), 'trade-east', 'local clients start on the default region');
  const drained = await api(sy, 'PUT', '/api/clusters/trade-east/drain', { drained: true });
  assert.deepEqual([drained.status, drained.json], [200, { cluster: 'trade-east', drained: true }]);
  assert.equal(await landsOn(sy), 'trade-south');
  const explained = await api(sy, 'GET', '/api/explain?ip=127.0.0.1');
  const east = (explained.json.candidates as { cluster: string; reasons: string[] }[]).find((c) => c.cluster === 'trade-east');
  assert.ok(east?.reasons.includes('drained'), 'explain says why');
  assert.equal((await api(sy, 'PUT', '/api/clusters/trade-east/drain', { drained: false })).status, 200);
  assert.equal(await landsOn(sy), 'trade-east');

  const unknown = await api(sy, 'PUT', '/api/clusters/nowhere/drain', { drained: true });
  assert.deepEqual([unknown.status, unknown.json.error], [404, 'unknown_cluster']);
  for (const body of [{}, { drained: 'yes' }, { drain: true }, [true]]) {
    const res = await api(sy, 'PUT', '/api/clusters/trade-east/drain', body);
    assert.deepEqual([res.status, res.json.error], [400, 'invalid_request'], JSON.stringify(body));
  }
  const notJson = await fetch(`${sy.adminUrl}/api/clusters/trade-east/drain`, { method: 'PUT', headers, body: '{drained' });
  assert.equal(notJson.status, 400);
  assert.equal((await notJson.json() as { error: string }).error, 'invalid_request');
});

test('a dial override sends the route to standby until cleared; bad dials and unknown routes are refused', async (t) => {
  const sy = await setup(t);
  const set = await api(sy, 'PUT', '/api/routes/storefront/dial', { percent: 100, ttlSeconds: 600 });
  assert.equal(set.status, 200);
  assert.deepEqual((set.json.dial as { percent: number; source: string }).percent, 100);
  assert.equal((set.json.dial as { source: string }).source, 'override');
  assert.equal(await landsOn(sy), 'promo-standby');
  assert.equal(await landsOn(sy, '202.96.128.86'), 'promo-standby', 'every client, at 100 %');
  const cleared = await api(sy, 'DELETE', '/api/routes/storefront/dial');
  assert.deepEqual([cleared.status, cleared.json.dial], [200, { percent: 0, source: 'config' }]);
  assert.equal(await landsOn(sy), 'trade-east');

  assert.deepEqual((await api(sy, 'PUT', '/api/routes/nope/dial', { percent: 1, ttlSeconds: 60 })).json.error, 'unknown_route');
  assert.equal((await api(sy, 'DELETE', '/api/routes/nope/dial')).status, 404);
  for (const body of [{ percent: 101, ttlSeconds: 60 }, { percent: -1, ttlSeconds: 60 }, { percent: 10 }, { percent: 10, ttlSeconds: 0 },
    { percent: '10', ttlSeconds: 60 }, { percent: 10, ttlSeconds: 1.5 }, { percent: 10, ttlSeconds: 60, extra: 1 }]) {
    const res = await api(sy, 'PUT', '/api/routes/storefront/dial', body);
    assert.deepEqual([res.status, res.json.error], [400, 'invalid_request'], JSON.stringify(body));
  }
  const pinned = await api(sy, 'PUT', '/api/routes/payment-webhooks/dial', { percent: 10, ttlSeconds: 60 });
  assert.deepEqual([pinned.status, pinned.json.error], [400, 'invalid_request'], 'a pinned route has no standby to dial');
});

test('the status document shows clusters, routes with their dial, schedules, fleet, breakers and traffic, and no secrets', async (t) => {
  const redisSecret = 'hunter2-redis-password';
  const redis = await startRedis(t);
  const sy = await setup(t, {
    state: { redis: `redis://default:${redisSecret}@127.0.0.1:${redis.port}`, publishIntervalMs: 200, staleAfterMs: 2000 },
    schedules: [{ name: 'double-11', from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z', dials: { storefront: 25 } }],
  });
  await landsOn(sy);
  const { status, json } = await api(sy, 'GET', '/api/status');
  assert.equal(status, 200);
  assert.equal(json.ready, true);
  assert.equal(json.instanceId, 'test');
  assert.equal(json.version, sy.switchyard.runtime.version);
  assert.equal(json.configFile, sy.configFile);
  const clusters = json.clusters as { name: string; role: string; breaker: string; drained: boolean }[];
  assert.deepEqual(clusters.map((c) => [c.name, c.role, c.breaker, c.drained]), [
    ['trade-east', 'primary', 'closed', false], ['trade-south', 'trade', 'closed', false], ['promo-standby', 'standby', 'closed', false]]);
  const storefront = (json.routes as { name: string; dial: { percent: number; source: string; schedule?: string } }[]).find((r) => r.name === 'storefront');
  assert.deepEqual(storefront?.dial, { percent: 25, source: 'schedule', schedule: 'double-11' });
  assert.equal((json.schedules as { active: boolean }[])[0].active, true);
  assert.deepEqual((json.fleet as { store: { kind: string; up: boolean } }).store, { kind: 'redis', up: true });
  assert.ok((json.breakers as Record<string, unknown>)['trade-east']);
  const traffic = json.traffic as { bucketMs: number; clusters: Record<string, number[]> };
  const served = Object.values(traffic.clusters).flat().reduce((a, b) => a + b, 0);
  assert.equal(served, 1);
  assert.equal(traffic.clusters['trade-east'].length, 60);
  const text = JSON.stringify(json);
  assert.ok(!text.includes(adminToken), 'the admin token is not in the status');
  assert.ok(!text.includes(redisSecret), 'nor the Redis password');
  assert.ok(!JSON.stringify(sy.logs).includes(redisSecret), 'not in the log either');
});

test('the log level changes at runtime; every change is audited with a token fingerprint, never the token', async (t) => {
  const sy = await setup(t);
  const changed = await api(sy, 'PUT', '/api/log/level', { level: 'debug' });
  assert.deepEqual([changed.status, changed.json], [200, { level: 'debug', previous: 'info' }]);
  assert.equal(sy.switchyard.logger.level, 'debug');
  assert.equal((await api(sy, 'PUT', '/api/log/level', { level: 'loud' })).status, 400);
  await api(sy, 'PUT', '/api/clusters/trade-south/drain', { drained: true });
  const audits = sy.logs.filter((l) => l.audit !== undefined).map((l) => l.audit as Record<string, string>);
  assert.deepEqual(audits.map((a) => a.action), ['log level', 'drain']);
  for (const a of audits) {
    assert.equal(a.client, '127.0.0.1');
    assert.match(a.fingerprint, /^sha256:[0-9a-f]{12}$/);
  }
  assert.ok(!JSON.stringify(sy.logs).includes(adminToken), 'the token never reaches the log');
});
