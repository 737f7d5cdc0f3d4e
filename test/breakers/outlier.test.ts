import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { RuntimeCluster } from '../../src/config/runtime.ts';
import { maxEjectedEndpoints, maxEjectionFactor, OutlierDetector } from '../../src/breakers/outlier.ts';
import { runtimeOf } from '../resilience/guarded.ts';

const baseEjectionMs = 1000;

function configOf(endpoints: string[], maxEjectionPercent = 50): ConfigInput {
  return {
    regions: { here: { location: [0, 0] } },
    clusters: { pool: { region: 'here', endpoints, outlier: { consecutiveFailures: 3, baseEjectionMs, maxEjectionPercent } } },
    routes: [{ name: 'all' }],
  };
}

const three = ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'];

function setUp(endpoints = three, maxEjectionPercent = 50) {
  const clock = { nowMs: 1_000_000 };
  const runtime = runtimeOf(configOf(endpoints, maxEjectionPercent));
  const outliers = new OutlierDetector(runtime, () => clock.nowMs);
  return { clock, outliers, pool: runtime.clusters[0] };
}

function fail(outliers: OutlierDetector, pool: RuntimeCluster, endpoint: number, n: number): void {
  for (let i = 0; i < n; i++) outliers.attemptEnded(pool, endpoint, 'failure');
}

test('maxEjectedEndpoints: never all, at least one of two or more, none of one', () => {
  const table: [count: number, percent: number, max: number][] = [
    [1, 50, 0], [1, 100, 0], [2, 50, 1], [3, 50, 1], [4, 50, 2], [5, 10, 1], [3, 100, 2], [4, 0, 0], [10, 30, 3],
  ];
  for (const [count, percent, max] of table) assert.equal(maxEjectedEndpoints(count, percent), max, `${count} endpoints at ${percent}%`);
});

test('consecutive failures eject; a success in between resets the count; cancelled counts as nothing', () => {
  const { outliers, pool } = setUp();
  fail(outliers, pool, 1, 2);
  outliers.attemptEnded(pool, 1, 'success');
  fail(outliers, pool, 1, 2);
  outliers.attemptEnded(pool, 1, 'cancelled');
  assert.equal(outliers.isEjected(pool, 1), false);
  fail(outliers, pool, 1, 1);
  assert.equal(outliers.isEjected(pool, 1), true);
  assert.equal(outliers.isEjected(pool, 0), false);
  assert.deepEqual(outliers.ejected().map((e) => e.endpoint), ['http://127.0.0.1:2']);
});

test('ejection time doubles per repeat, capped at the maximum factor, and comes back after it', () => {
  const { clock, outliers, pool } = setUp();
  const expected = [1, 2, 4, 8, 10, 10].map((f) => Math.min(f, maxEjectionFactor) * baseEjectionMs);
  for (const ms of expected) {
    fail(outliers, pool, 0, 3);
    assert.equal(outliers.isEjected(pool, 0), true);
    clock.nowMs += ms - 1;
    assert.equal(outliers.isEjected(pool, 0), true, `still ejected 1 ms before ${ms} ms`);
    clock.nowMs += 1;
    assert.equal(outliers.isEjected(pool, 0), false, `back after ${ms} ms`);
  }
});

test('an endpoint that serves well for a whole capped ejection time starts over at the base time', () => {
  const { clock, outliers, pool } = setUp();
  fail(outliers, pool, 0, 3);
  clock.nowMs += baseEjectionMs;
  fail(outliers, pool, 0, 3);
  clock.nowMs += 2 * baseEjectionMs;
  clock.nowMs += maxEjectionFactor * baseEjectionMs;
  outliers.attemptEnded(pool, 0, 'success');
  fail(outliers, pool, 0, 3);
  clock.nowMs += baseEjectionMs;
  assert.equal(outliers.isEjected(pool, 0), false);
});

test('never more than maxEjectionPercent ejected: the next failure ejects once another endpoint is back', () => {
  const { clock, outliers, pool } = setUp();
  fail(outliers, pool, 0, 3);
  fail(outliers, pool, 1, 3);
  assert.deepEqual([0, 1, 2].map((i) => outliers.isEjected(pool, i)), [true, false, false]);
  clock.nowMs += baseEjectionMs;
  fail(outliers, pool, 1, 1);
  assert.deepEqual([0, 1, 2].map((i) => outliers.isEjected(pool, i)), [false, true, false]);
});

test('a single-endpoint cluster never ejects its endpoint', () => {
  const { outliers, pool } = setUp(['http://127.0.0.1:1'], 100);
  fail(outliers, pool, 0, 100);
  assert.equal(outliers.isEjected(pool, 0), false);
});

test('ejections follow their endpoint URL across a reload, even when its index moves', () => {
  const { clock, outliers, pool } = setUp();
  fail(outliers, pool, 2, 3);
  const reloaded = runtimeOf(configOf(['http://127.0.0.1:3', 'http://127.0.0.1:1', 'http://127.0.0.1:4']));
  outliers.applyConfig(reloaded);
  const moved = reloaded.clusters[0];
  assert.deepEqual([0, 1, 2].map((i) => outliers.isEjected(moved, i)), [true, false, false]);
  assert.equal(outliers.isEjected(pool, 2), true, 'an attempt of the old generation still finds its endpoint');
  clock.nowMs += baseEjectionMs;
  assert.equal(outliers.isEjected(moved, 0), false);
});
