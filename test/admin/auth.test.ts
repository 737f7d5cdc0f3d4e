/**
 * The admin API's authentication (SPEC §7, §9): bearer token compared in constant time, 401 with
 * WWW-Authenticate, 403 without a configured token, brute force slowed to a crawl, and the probe and
 * scrape endpoints open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { startUpstream } from '../helpers/upstream.ts';
import { adminToken, gatewayConfig, startSwitchyard, type ClusterUrls } from '../helpers/switchyard.ts';
import { tokensMatch } from '../../src/admin/auth.ts';

async function clusters(t: Parameters<typeof startUpstream>[0]): Promise<ClusterUrls> {
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  return { east: east.url, south: south.url, standby: standby.url };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('/api/* needs the bearer token: missing or wrong → 401 with WWW-Authenticate, right → 200', async (t) => {
  const sy = await startSwitchyard(t, gatewayConfig(await clusters(t)));
  const missing = await fetch(`${sy.adminUrl}/api/status`);
  assert.equal(missing.status, 401);
  assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer\b/);
  const body = await missing.json() as { error: string; message: string; requestId: string };
  assert.equal(body.error, 'unauthorized');
  assert.ok(body.requestId.length > 0 && typeof body.message === 'string');

  const wrong = await fetch(`${sy.adminUrl}/api/status`, { headers: bearer(`${adminToken}x`) });
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer\b/);
  const basic = await fetch(`${sy.adminUrl}/api/status`, { headers: { authorization: `Basic ${Buffer.from(`x:${adminToken}`).toString('base64')}` } });
  assert.equal(basic.status, 401);

  const right = await fetch(`${sy.adminUrl}/api/status`, { headers: bearer(adminToken) });
  assert.equal(right.status, 200);
  // The router decodes %61 to "a": the encoded path must not slip past the check.
  const encoded = await fetch(`${sy.adminUrl}/%61pi/status`);
  assert.ok(encoded.status === 401 || encoded.status === 404, `encoded path answered ${encoded.status}`);
  assert.notEqual(encoded.status, 200);
  const unknown = await fetch(`${sy.adminUrl}/api/nothing-here`);
  assert.equal(unknown.status, 401, 'unknown /api/ paths reveal nothing without the token');
});

test('without a configured token every /api/* endpoint answers 403 forbidden', async (t) => {
  const sy = await startSwitchyard(t, gatewayConfig(await clusters(t), { admin: { token: '' } }));
  for (const [method, path] of [['GET', '/api/status'], ['POST', '/api/reload'], ['PUT', '/api/clusters/trade-east/drain']] as const) {
    const res = await fetch(`${sy.adminUrl}${path}`, { method, headers: { ...bearer('anything'), 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
    assert.equal(res.status, 403, `${method} ${path}`);
    assert.equal((await res.json() as { error: string }).error, 'forbidden');
  }
});

test('health, readiness, metrics and the status page are open without a token', async (t) => {
  const sy = await startSwitchyard(t, gatewayConfig(await clusters(t)));
  for (const path of ['/healthz', '/readyz', '/metrics', '/']) {
    const res = await fetch(`${sy.adminUrl}${path}`);
    assert.equal(res.status, 200, path);
    await res.arrayBuffer();
  }
});

test('after 10 failed attempts in a minute a client gets 429 with Retry-After, even with the right token', async (t) => {
  const sy = await startSwitchyard(t, gatewayConfig(await clusters(t)));
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`${sy.adminUrl}/api/status`, { headers: bearer(`guess-${i}`) });
    assert.equal(res.status, 401, `attempt ${i + 1}`);
  }
  const limited = await fetch(`${sy.adminUrl}/api/status`, { headers: bearer(adminToken) });
  assert.equal(limited.status, 429);
  const retryAfter = Number(limited.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  assert.equal((await limited.json() as { error: string }).error, 'too_many_attempts');
  const open = await fetch(`${sy.adminUrl}/readyz`);
  assert.equal(open.status, 200, 'open endpoints are not limited');
});

test('tokens are compared with timingSafeEqual over equal-length digests, whatever the lengths presented', (t) => {
  let calls = 0;
  t.mock.method(crypto, 'timingSafeEqual', (a: Buffer, b: Buffer) => {
    calls++;
    assert.equal(a.length, b.length, 'equal lengths: nothing about the token length leaks');
    return a.equals(b);
  });
  syncBuiltinESMExports();
  t.after(() => {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  });
  assert.equal(tokensMatch('short', 'a-much-longer-token-value'), false);
  assert.equal(tokensMatch('same-token', 'same-token'), true);
  assert.equal(calls, 2);
});
