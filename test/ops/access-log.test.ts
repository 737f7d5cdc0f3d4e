/**
 * The access log: one JSON line per request with what an SRE needs to explain it, and nothing a
 * client sent that may be secret (cookies, authorization, query strings). `log.access: false` turns
 * it off, live.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../helpers/upstream.ts';
import { adminToken, gatewayConfig, startSwitchyard, waitFor } from '../helpers/switchyard.ts';

const secrets = ['session=abc123secret', 'Bearer client-secret-token', 'querysecret'];

test('one line per request with its fields, and no cookies, authorization or query string', async (t) => {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const config = gatewayConfig({ east: east.url, south: south.url, standby: standby.url }, { trustedProxies: ['127.0.0.1/32'] });
  const sy = await startSwitchyard(t, config);
  const res = await fetch(`${sy.trafficUrl}/products/7?token=querysecret`, {
    headers: { cookie: secrets[0], authorization: secrets[1], 'x-forwarded-for': '202.96.128.86' },
  });
  const body = await res.text();
  await waitFor('the access line', () => sy.logs.some((l) => l.msg === 'request'));
  const line = sy.logs.find((l) => l.msg === 'request')!;
  assert.equal(line.requestId, res.headers.get('x-request-id'));
  assert.equal(line.method, 'GET');
  assert.equal(line.path, '/products/7');
  assert.equal(line.route, 'storefront');
  assert.equal(line.cluster, 'trade-south');
  assert.equal(line.status, 200);
  assert.equal(line.error, null);
  assert.equal(line.bytesOut, Buffer.byteLength(body));
  assert.equal(typeof line.upstreamMs, 'number');
  assert.ok((line.durationMs as number) >= (line.upstreamMs as number));
  assert.equal(line.clientIp, '202.96.128.86');
  assert.equal(line.country, 'CN');
  assert.equal(line.subdivision, 'CN-GD');
  assert.equal(line.attempts, 1);
  assert.equal(line.retries, 0);
  assert.equal(line.reason, 'lowest cost');
  assert.equal(line.panic, false);
  const all = JSON.stringify(sy.logs);
  for (const secret of secrets) assert.ok(!all.includes(secret), `${secret} is not logged`);

  // An answer of the gateway itself: no cluster, the error code.
  await fetch(`${sy.adminUrl}/api/clusters/trade-east/drain`, {
    method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: '{"drained":true}',
  });
  assert.equal((await fetch(`${sy.trafficUrl}/webhooks/payment/x`, { method: 'POST', body: 'x' })).status, 503);
  await waitFor('the refusal\'s line', () => sy.logs.some((l) => l.msg === 'request' && l.status === 503));
  const refused = sy.logs.find((l) => l.msg === 'request' && l.status === 503)!;
  assert.deepEqual([refused.route, refused.cluster, refused.error, refused.attempts], ['payment-webhooks', null, 'pinned_cluster_unavailable', 0]);
});

test('log.access: false turns the access log off on reload, true turns it back on', async (t) => {
  const upstream = await startUpstream(t, 'any');
  const urls = { east: upstream.url, south: upstream.url, standby: upstream.url };
  const sy = await startSwitchyard(t, gatewayConfig(urls));
  const accessLines = () => sy.logs.filter((l) => l.msg === 'request').length;
  await (await fetch(`${sy.trafficUrl}/a`)).arrayBuffer();
  await waitFor('one access line', () => accessLines() === 1);

  await sy.writeConfig(gatewayConfig(urls, { log: { access: false } }));
  assert.equal((await sy.switchyard.reload()).ok, true);
  for (let i = 0; i < 3; i++) await (await fetch(`${sy.trafficUrl}/b`)).arrayBuffer();
  await sy.writeConfig(gatewayConfig(urls, { log: { access: true } }));
  assert.equal((await sy.switchyard.reload()).ok, true);
  await (await fetch(`${sy.trafficUrl}/c`)).arrayBuffer();
  await waitFor('the line after turning it on', () => accessLines() === 2);
  assert.deepEqual(sy.logs.filter((l) => l.msg === 'request').map((l) => l.path), ['/a', '/c']);
});
