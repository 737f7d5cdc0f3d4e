/**
 * The request-path counters and histograms render exactly as prom-client's own would for the same
 * observations, so dashboards and recording rules cannot tell them apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { CounterFamily, HistogramFamily } from '../../src/metrics/series.ts';
import { durationBucketsSeconds } from '../../src/metrics/metrics.ts';

const observations = [0, 0.0004, 0.0005, 0.0031, 0.2, 0.25, 1, 29.9, 30, 31, 120];

test('a histogram family renders like a prom-client Histogram, bucket bounds inclusive', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const series = new HistogramFamily(ours, 'x_seconds', 'help', durationBucketsSeconds).child({ route: 'r', cluster: 'c' });
  const child = new Histogram({ name: 'x_seconds', help: 'help', labelNames: ['route', 'cluster'], buckets: [...durationBucketsSeconds], registers: [theirs] })
    .labels({ route: 'r', cluster: 'c' });
  for (const v of observations) {
    series.observe(v);
    child.observe(v);
  }
  const normalise = (text: string) => text.split('\n').map((line) => line.replace(/\{le="([^"]+)",(.*)\}/, '{$2,le="$1"}')).sort();
  assert.deepEqual(normalise(await ours.metrics()), normalise(await theirs.metrics()));
});

test('a counter family renders like a prom-client Counter; unused histogram series stay out of the scrape', async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const family = new CounterFamily(ours, 'y_total', 'help');
  const counter = new Counter({ name: 'y_total', help: 'help', labelNames: ['route', 'code'], registers: [theirs] });
  family.child({ route: 'a', code: '200' }).value += 3;
  family.child({ route: 'a', code: '503' }).value++;
  counter.inc({ route: 'a', code: '200' }, 3);
  counter.inc({ route: 'a', code: '503' });
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.equal(family.child({ route: 'a', code: '200' }).value, 3, 'the same series for the same labels');

  new HistogramFamily(ours, 'z_seconds', 'help', [1]).child({ cluster: 'idle' });
  assert.doesNotMatch(await ours.metrics(), /z_seconds_bucket/);
});
