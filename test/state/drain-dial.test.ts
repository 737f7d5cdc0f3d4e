import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../helpers/redis.ts';
import { fleetConfig, startFleet, startHealthUpstream, waitFor } from './fleet-fixture.ts';

test('a drain set on one instance reaches the others; undraining starts the failback clock', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url], south: [upstream.url] } });
  const a = await startFleet(t, config, 'a');
  const b = await startFleet(t, config, 'b');
  assert.equal(b.snapshot().clusters.get('east')?.availableSinceMs, 0, 'available since start');

  await a.setDrain('east', true);
  assert.equal(a.snapshot().clusters.get('east')?.drained, true, 'reflected here at once');
  await waitFor('B sees the drain', () => b.snapshot().clusters.get('east')?.drained === true);
  assert.equal(b.snapshot().clusters.get('south')?.drained, false);

  const undrainedAt = Date.now();
  await a.setDrain('east', false);
  await waitFor('B sees the undrain', () => b.snapshot().clusters.get('east')?.drained === false);
  assert.ok(b.snapshot().clusters.get('east')!.availableSinceMs >= undrainedAt);
});

test('a dial override reaches the other instances, expires, and can be cleared', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const config = fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } });
  const a = await startFleet(t, config, 'a');
  const b = await startFleet(t, config, 'b');

  await a.setDialOverride('storefront', 30, 1);
  assert.equal(a.snapshot().dialOverrides.get('storefront')?.percent, 30, 'reflected here at once');
  await waitFor('B sees the dial', () => b.snapshot().dialOverrides.get('storefront')?.percent === 30);
  await waitFor('the dial expires everywhere', () => !a.snapshot().dialOverrides.has('storefront') && !b.snapshot().dialOverrides.has('storefront'));

  await a.setDialOverride('checkout', 55, 3600);
  await waitFor('B sees the second dial', () => b.snapshot().dialOverrides.get('checkout')?.percent === 55);
  await b.clearDialOverride('checkout');
  assert.equal(b.snapshot().dialOverrides.has('checkout'), false);
  await waitFor('A sees it cleared', () => !a.snapshot().dialOverrides.has('checkout'));
  await assert.rejects(a.setDialOverride('checkout', 101, 10), RangeError);
});

test('with the in-memory store, drains and dials apply to this instance', async (t) => {
  const upstream = await startHealthUpstream(t);
  const a = await startFleet(t, fleetConfig({ clusters: { east: [upstream.url] } }), 'solo');
  await a.setDrain('east', true);
  await a.setDialOverride('storefront', 10, 60);
  await a.refresh();
  assert.equal(a.snapshot().clusters.get('east')?.drained, true);
  assert.equal(a.snapshot().dialOverrides.get('storefront')?.percent, 10);
  assert.equal(a.snapshot().storeUp, true);
});

test('admin changes fail loudly while Redis is down', async (t) => {
  const redis = await startRedis(t);
  const upstream = await startHealthUpstream(t);
  const a = await startFleet(t, fleetConfig({ redis: redis.url, clusters: { east: [upstream.url] } }), 'a');
  await redis.kill();
  await waitFor('A notices', () => a.snapshot().storeUp === false);
  await assert.rejects(a.setDrain('east', true));
  assert.equal(a.snapshot().clusters.get('east')?.drained, false);
});
