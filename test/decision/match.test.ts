import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouteMatcher, matchRoute } from '../../src/decision/match.ts';
import { clientBucket, dialBuckets } from '../../src/decision/client-hash.ts';

const routes = [
  { name: 'webhooks', matcher: compileRouteMatcher({ pathPrefix: '/webhooks/payment/', methods: ['POST'] }) },
  { name: 'admin-host', matcher: compileRouteMatcher({ pathPrefix: '/', hosts: ['ops.example.com', '*.internal.example'] }) },
  { name: 'beta', matcher: compileRouteMatcher({ pathPrefix: '/', headers: { 'X-Beta': 'on' } }) },
  { name: 'storefront', matcher: compileRouteMatcher({ pathPrefix: '/' }) },
];

const cases: [string, { method: string; host?: string; path: string; headers?: Record<string, string> }, string | undefined][] = [
  ['POST webhook matches the webhook route', { method: 'POST', path: '/webhooks/payment/alipay' }, 'webhooks'],
  ['GET on the webhook path falls through', { method: 'GET', path: '/webhooks/payment/alipay' }, 'storefront'],
  ['exact host, port ignored, case-insensitive', { method: 'GET', host: 'OPS.example.com:8080', path: '/' }, 'admin-host'],
  ['wildcard host suffix', { method: 'GET', host: 'a.b.internal.example', path: '/' }, 'admin-host'],
  ['wildcard does not match the bare domain', { method: 'GET', host: 'internal.example', path: '/' }, 'storefront'],
  ['header match is exact on value', { method: 'GET', path: '/', headers: { 'x-beta': 'on' } }, 'beta'],
  ['header with another value falls through', { method: 'GET', path: '/', headers: { 'x-beta': 'off' } }, 'storefront'],
];

for (const [name, input, expected] of cases) {
  test(`route matching: ${name}`, () => {
    const route = matchRoute(routes, { headers: {}, host: undefined, ...input });
    assert.equal(route?.name, expected);
  });
}

test('no route matches when no prefix fits', () => {
  assert.equal(matchRoute(routes.slice(0, 1), { method: 'GET', host: undefined, path: '/x', headers: {} }), undefined);
});

test('client buckets are stable, spread evenly and differ per route', () => {
  assert.equal(clientBucket('storefront', '203.0.113.9'), clientBucket('storefront', '203.0.113.9'));
  const histogram = new Array(10).fill(0);
  for (let i = 0; i < 10_000; i++) histogram[Math.floor(clientBucket('storefront', `10.0.${i >> 8}.${i & 255}`) / (dialBuckets / 10))]++;
  for (const count of histogram) assert.ok(count > 850 && count < 1150, `decile holds ${count}`);
  let same = 0;
  for (let i = 0; i < 1000; i++) if (clientBucket('a', `c${i}`) === clientBucket('b', `c${i}`)) same++;
  assert.ok(same < 10);
});
