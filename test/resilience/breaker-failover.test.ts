import { test } from 'node:test';
import assert from 'node:assert/strict';
import { echo, startUpstream, type UpstreamBehaviour } from '../helpers/upstream.ts';
import { clusterOf, startGuardedGateway, twoClusters, waitFor } from './guarded.ts';

const answer = (status: number): UpstreamBehaviour => (_req, res) => { res.writeHead(status).end(); };
const breaker = { volumeThreshold: 10, errorThresholdPercentage: 50, resetTimeoutMs: 400, rollingWindowMs: 10_000 };

async function twoClusterGateway(t: import('node:test').TestContext) {
  const a = await startUpstream(t, 'a', answer(500));
  const b = await startUpstream(t, 'b');
  const gw = await startGuardedGateway(t, twoClusters({ endpoints: [a.url], breaker }, { endpoints: [b.url], breaker }));
  return { a, b, gw };
}

/** Sends `n` GETs one after the other; returns the answering clusters in order. */
async function sequence(gw: Awaited<ReturnType<typeof twoClusterGateway>>['gw'], n: number): Promise<string[]> {
  const clusters: string[] = [];
  for (let i = 0; i < n; i++) clusters.push(clusterOf(await gw.request()));
  return clusters;
}

test('a cluster answering 500s is cut off after the volume threshold, and taken back after a half-open trial', async (t) => {
  const { a, b, gw } = await twoClusterGateway(t);
  const first = await sequence(gw, breaker.volumeThreshold);
  assert.deepEqual(new Set(first), new Set(['a']), '500s are not retried: the client sees them');
  assert.equal(gw.guard.breakers.state('a'), 'open');
  assert.equal(a.count(), breaker.volumeThreshold);

  const whileOpen = await sequence(gw, 30);
  assert.deepEqual(new Set(whileOpen), new Set(['b']), 'traffic moved to the other cluster');
  assert.equal(a.count(), breaker.volumeThreshold, 'nothing reaches the failing cluster while its breaker is open');
  assert.equal(b.count(), 30);

  a.behave(echo('a'));
  await waitFor('half-open', () => gw.guard.breakers.state('a') === 'half-open');
  assert.deepEqual(await sequence(gw, 1), ['a'], 'the half-open trial goes to the recovered cluster');
  assert.equal(gw.guard.breakers.state('a'), 'closed');
  assert.deepEqual(new Set(await sequence(gw, 10)), new Set(['a']), 'traffic returned');
});

test('a half-open cluster takes exactly one request while its trial is in flight', async (t) => {
  const { a, b, gw } = await twoClusterGateway(t);
  await sequence(gw, breaker.volumeThreshold);
  assert.equal(gw.guard.breakers.state('a'), 'open');
  a.behave((req, res, body) => setTimeout(() => echo('a')(req, res, body), 300));
  await waitFor('half-open', () => gw.guard.breakers.state('a') === 'half-open');
  const before = { a: a.count(), b: b.count() };
  const answers = await Promise.all(Array.from({ length: 20 }, () => gw.request()));
  assert.deepEqual(answers.map((x) => x.status), new Array(20).fill(200));
  assert.equal(a.count() - before.a, 1, 'one trial');
  assert.equal(b.count() - before.b, 19, 'the rest went elsewhere');
  assert.equal(gw.guard.breakers.state('a'), 'closed');
});

test('4xx answers never count as failures', async (t) => {
  const a = await startUpstream(t, 'a', answer(404));
  const b = await startUpstream(t, 'b');
  const gw = await startGuardedGateway(t, twoClusters({ endpoints: [a.url], breaker }, { endpoints: [b.url], breaker }));
  for (let i = 0; i < 20; i++) assert.equal((await gw.request()).status, 404);
  a.behave(answer(500));
  for (let i = 0; i < 10; i++) assert.equal((await gw.request()).status, 500);
  assert.equal(gw.guard.breakers.state('a'), 'closed', '10 failures in 30 attempts: 404s counted as successes');
  const { windowAttempts, windowFailures } = gw.guard.breakers.states().a;
  assert.deepEqual({ windowAttempts, windowFailures }, { windowAttempts: 30, windowFailures: 10 });
});

/** Answers after `ms`; the timer does not keep the test process alive. */
const slowly = (ms: number): UpstreamBehaviour => (req, res, body) => { setTimeout(() => echo('slow')(req, res, body), ms).unref(); };

function slowClusterConfig(url: string, timeouts: { headersMs?: number; totalMs?: number }) {
  return {
    regions: { here: { location: [0, 0] as [number, number] } },
    clusters: { slow: { region: 'here', endpoints: [url], timeouts, breaker: { ...breaker, volumeThreshold: 3 } } },
    routes: [{ name: 'all' }],
  };
}

test('a slow cluster\'s GETs time out with 504 upstream_timeout, and the timeouts open its breaker', async (t) => {
  const slow = await startUpstream(t, 'slow', slowly(2000));
  const gw = await startGuardedGateway(t, slowClusterConfig(slow.url, { totalMs: 150 }));
  for (let i = 0; i < 3; i++) {
    const timedOut = await gw.request();
    assert.equal(timedOut.status, 504);
    assert.equal(timedOut.json().error, 'upstream_timeout');
  }
  assert.equal(gw.guard.breakers.state('slow'), 'open');
  const refused = await gw.request();
  assert.equal(refused.status, 503);
  assert.equal(refused.json().error, 'no_healthy_cluster');
  assert.equal(slow.count(), 3);
});

test('a response-headers timeout is a 504 upstream_timeout and a breaker failure too', async (t) => {
  const slow = await startUpstream(t, 'slow', slowly(5000));
  const gw = await startGuardedGateway(t, slowClusterConfig(slow.url, { headersMs: 100 }));
  const timedOut = await gw.request();
  assert.equal(timedOut.status, 504);
  assert.equal(timedOut.json().error, 'upstream_timeout');
  assert.equal(gw.guard.breakers.states().slow.windowFailures, 1);
});
