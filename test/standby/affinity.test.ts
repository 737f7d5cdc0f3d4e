import { test } from 'node:test';
import assert from 'node:assert/strict';
import { affinityCookie, cookieValue, readAffinity } from '../../src/standby/affinity.ts';

const key = Buffer.alloc(32, 7);
const now = Date.parse('2026-11-11T00:00:00Z');

function valueOf(setCookie: string): string {
  return setCookie.slice(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
}

test('a cookie the gateway wrote reads back; forged, re-routed and expired ones are ignored', () => {
  const cookie = affinityCookie('sy_cluster', 'storefront', key, { cluster: 'trade-south', clientId: 'abc' }, 3600, now);
  assert.match(cookie, /^sy_cluster=trade-south\.abc\.\d+\.[\w-]+; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax$/);
  const value = valueOf(cookie);
  const header = `theme=dark; sy_cluster=${value}; other=1`;
  assert.deepEqual(readAffinity(header, 'sy_cluster', 'storefront', key, now), { cluster: 'trade-south', clientId: 'abc' });
  assert.equal(readAffinity(`sy_cluster=${value.replace('trade-south', 'trade-east')}`, 'sy_cluster', 'storefront', key, now), undefined,
    'pointing the cookie at another cluster breaks the signature');
  assert.equal(readAffinity(header, 'sy_cluster', 'checkout', key, now), undefined, 'a cookie is valid for its route only');
  assert.equal(readAffinity(header, 'sy_cluster', 'storefront', Buffer.alloc(32, 8), now), undefined, 'another key');
  assert.equal(readAffinity(header, 'sy_cluster', 'storefront', key, now + 3601_000), undefined, 'expired');
  assert.equal(readAffinity('sy_cluster=garbage', 'sy_cluster', 'storefront', key, now), undefined);
  assert.equal(readAffinity(undefined, 'sy_cluster', 'storefront', key, now), undefined);
});

test('cookie values are found by exact name', () => {
  assert.equal(cookieValue('a=1; sy_cluster_x=2; sy_cluster=3', 'sy_cluster'), '3');
  assert.equal(cookieValue('sy_cluster=3', 'sy_cluster'), '3');
  assert.equal(cookieValue('x=1', 'sy_cluster'), undefined);
});
