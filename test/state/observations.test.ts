import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalObservations } from '../../src/state/observations.ts';

const t0 = 1_000_000;

test('counts in-flight attempts, latency, errors and a p99 per cluster', () => {
  const obs = new LocalObservations(['east', 'south'], { windowMs: 10_000, nowMs: t0 });
  const east = obs.cluster('east');
  for (let i = 0; i < 100; i++) {
    east.begin();
    east.end(i < 99 ? 10 : 1000, i % 10 === 0);
  }
  east.begin();
  const s = obs.summary('east')!;
  assert.equal(s.requests, 100);
  assert.equal(s.inflight, 1);
  assert.equal(s.errorRate, 0.1);
  assert.ok(s.latencyMs > 10 && s.latencyMs < 300, `EWMA ${s.latencyMs} leans to recent samples`);
  assert.ok(s.p99Ms >= 10 && s.p99Ms < 13, `p99 ${s.p99Ms}: 99 of 100 took 10 ms`);
  assert.deepEqual(obs.summary('south'), { latencyMs: 0, p99Ms: 0, errorRate: 0, requests: 0, inflight: 0 });
});

test('old traffic stops counting once it leaves the window', () => {
  const obs = new LocalObservations(['east'], { windowMs: 10_000, nowMs: t0 });
  const east = obs.cluster('east');
  east.begin();
  east.end(500, true);
  obs.tick(t0 + 5_000);
  east.begin();
  east.end(50, false);
  assert.equal(obs.summary('east')!.requests, 2);
  obs.tick(t0 + 10_500);
  assert.equal(obs.summary('east')!.requests, 1, 'the first sample left the window');
  assert.equal(obs.summary('east')!.errorRate, 0);
  obs.tick(t0 + 60_000);
  assert.deepEqual(obs.summary('east'), { latencyMs: 0, p99Ms: 0, errorRate: 0, requests: 0, inflight: 0 });
  east.begin();
  east.end(7, false);
  assert.equal(obs.summary('east')!.latencyMs, 7, 'a new burst is not blended with forgotten samples');
});

test('handles survive a reload that keeps the cluster; unknown clusters get a handle that counts nothing', () => {
  const obs = new LocalObservations(['east', 'gone'], { nowMs: t0 });
  const east = obs.cluster('east');
  east.begin();
  obs.retain(['east', 'new']);
  assert.equal(obs.cluster('east'), east);
  assert.equal(obs.summary('east')!.inflight, 1);
  assert.equal(obs.summary('gone'), undefined);
  assert.equal(obs.summary('new')!.requests, 0);
  const stray = obs.cluster('gone');
  stray.begin();
  stray.end(1, false);
  assert.equal(obs.summary('gone'), undefined);
});

test('garbage latencies do not poison the averages', () => {
  const obs = new LocalObservations(['east'], { nowMs: t0 });
  const east = obs.cluster('east');
  for (const ms of [Number.NaN, -5, Number.POSITIVE_INFINITY]) {
    east.begin();
    east.end(ms, false);
  }
  const s = obs.summary('east')!;
  assert.ok(Number.isFinite(s.latencyMs) && Number.isFinite(s.p99Ms));
  assert.equal(s.inflight, 0);
});

test('an abandoned attempt leaves the in-flight count without adding a latency or error sample', () => {
  const obs = new LocalObservations(['east'], { nowMs: t0 });
  const east = obs.cluster('east');
  east.begin();
  east.begin();
  east.abandon();
  assert.deepEqual(obs.summary('east'), { latencyMs: 0, p99Ms: 0, errorRate: 0, requests: 0, inflight: 1 });
});
