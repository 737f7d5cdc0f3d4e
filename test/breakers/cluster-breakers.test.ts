import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { RuntimeCluster } from '../../src/config/runtime.ts';
import type { AttemptOutcome } from '../../src/proxy/signals.ts';
import type { BreakerState } from '../../src/state/snapshot.ts';
import { ClusterBreakers } from '../../src/breakers/cluster-breakers.ts';
import { runtimeOf, settle, twoClusters, waitFor } from '../resilience/guarded.ts';

const breaker = { volumeThreshold: 10, errorThresholdPercentage: 50, resetTimeoutMs: 60, rollingWindowMs: 10_000 };

function configWith(over: Partial<typeof breaker> = {}, totalMs = 30_000): ConfigInput {
  return twoClusters(
    { endpoints: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], breaker: { ...breaker, ...over }, timeouts: { totalMs } },
    { endpoints: ['http://127.0.0.1:3'], breaker },
  );
}

function setUp(t: import('node:test').TestContext, over: Partial<typeof breaker> = {}, totalMs?: number) {
  const runtime = runtimeOf(configWith(over, totalMs));
  const breakers = new ClusterBreakers(runtime);
  t.after(() => breakers.close());
  const a = runtime.clustersByName.get('a')!;
  const changes: BreakerState[] = [];
  breakers.onStateChange((cluster, state) => { if (cluster === 'a') changes.push(state); });
  return { runtime, breakers, a, changes };
}

/** Feeds attempts that start and end on endpoint 0, then lets opossum settle them. */
async function feed(breakers: ClusterBreakers, cluster: RuntimeCluster, outcomes: readonly AttemptOutcome[]): Promise<void> {
  for (const outcome of outcomes) {
    breakers.attemptStarted(cluster, 0);
    breakers.attemptEnded(cluster, 0, outcome);
  }
  await settle();
}

const times = (n: number, outcome: AttemptOutcome): AttemptOutcome[] => new Array<AttemptOutcome>(n).fill(outcome);

const openingTable: { name: string; outcomes: AttemptOutcome[]; state: BreakerState }[] = [
  { name: 'below the volume threshold, even all failing', outcomes: times(9, 'failure'), state: 'closed' },
  { name: 'at the volume threshold, all failing', outcomes: times(10, 'failure'), state: 'open' },
  { name: 'exactly the threshold percentage (50% is not more than 50%)', outcomes: [...times(5, 'success'), ...times(5, 'failure')], state: 'closed' },
  { name: 'above the threshold percentage', outcomes: [...times(4, 'success'), ...times(6, 'failure')], state: 'open' },
  { name: 'cancelled attempts neither fill the volume nor dilute failures', outcomes: [...times(30, 'cancelled'), ...times(9, 'failure')], state: 'closed' },
  { name: 'cancelled attempts are no successes either', outcomes: [...times(30, 'cancelled'), ...times(10, 'failure')], state: 'open' },
];

for (const row of openingTable) {
  test(`breaker: ${row.name} → ${row.state}`, async (t) => {
    const { breakers, a } = setUp(t);
    await feed(breakers, a, row.outcomes);
    assert.equal(breakers.state('a'), row.state);
    assert.equal(breakers.state('b'), 'closed', 'breakers are per cluster');
  });
}

test('breaker: counts attempts in its window, cancelled excluded', async (t) => {
  const { breakers, a } = setUp(t);
  await feed(breakers, a, [...times(3, 'success'), ...times(4, 'cancelled'), ...times(2, 'failure')]);
  const status = breakers.states().a;
  assert.equal(status.windowAttempts, 5);
  assert.equal(status.windowFailures, 2);
});

async function openThenHalfOpen(breakers: ClusterBreakers, a: RuntimeCluster): Promise<void> {
  await feed(breakers, a, times(10, 'failure'));
  assert.equal(breakers.state('a'), 'open');
  await waitFor('half-open', () => breakers.state('a') === 'half-open', 2000);
}

test('half-open lets exactly one trial through; other clusters\' and stale attempts do not count', async (t) => {
  const { breakers, a, changes } = setUp(t);
  await openThenHalfOpen(breakers, a);
  breakers.attemptStarted(a, 0);
  assert.equal(breakers.state('a'), 'open', 'while the trial is in flight the cluster reads open');
  assert.equal(breakers.states().a.state, 'half-open');
  assert.equal(breakers.states().a.trialInFlight, true);
  breakers.attemptStarted(a, 1);
  breakers.attemptEnded(a, 1, 'success');
  await settle();
  assert.equal(breakers.state('a'), 'open', 'an attempt that is not the trial settles nothing');
  breakers.attemptEnded(a, 0, 'success');
  await settle();
  assert.equal(breakers.state('a'), 'closed', 'trial success closes');
  assert.deepEqual(changes, ['open', 'half-open', 'closed']);
});

test('a failed trial re-opens, and the breaker tries again after the reset timeout', async (t) => {
  const { breakers, a, changes } = setUp(t);
  await openThenHalfOpen(breakers, a);
  await feed(breakers, a, ['failure']);
  assert.equal(breakers.state('a'), 'open');
  await waitFor('half-open again', () => breakers.state('a') === 'half-open', 2000);
  assert.deepEqual(changes, ['open', 'half-open', 'open', 'half-open']);
});

test('a cancelled trial frees the slot for another trial', async (t) => {
  const { breakers, a } = setUp(t);
  await openThenHalfOpen(breakers, a);
  breakers.attemptStarted(a, 0);
  breakers.attemptEnded(a, 0, 'cancelled');
  assert.equal(breakers.state('a'), 'half-open');
  await feed(breakers, a, ['success']);
  assert.equal(breakers.state('a'), 'closed');
});

test('a trial that never reports its end is forgotten after the cluster\'s total timeout', async (t) => {
  const { breakers, a } = setUp(t, {}, 1);
  await openThenHalfOpen(breakers, a);
  breakers.attemptStarted(a, 0);
  assert.equal(breakers.state('a'), 'open');
  await waitFor('the lost trial to be forgotten', () => breakers.state('a') === 'half-open', 3000);
});

test('after closing, the failures that opened the breaker do not count again', async (t) => {
  const { breakers, a } = setUp(t, { volumeThreshold: 3 });
  await feed(breakers, a, times(3, 'failure'));
  await waitFor('half-open', () => breakers.state('a') === 'half-open', 2000);
  await feed(breakers, a, ['success']);
  assert.equal(breakers.state('a'), 'closed');
  // Counted with the 3 old failures this would be 4 failures in 7 attempts: open again.
  await feed(breakers, a, ['success', 'success', 'failure']);
  assert.equal(breakers.state('a'), 'closed', '1 failure in 3 is below 50% in a fresh window');
});

test('breaker state carries over a reload for clusters whose name did not change', async (t) => {
  const { breakers, a } = setUp(t, { resetTimeoutMs: 60_000 });
  await feed(breakers, a, times(10, 'failure'));
  const b = runtimeOf(configWith()).clustersByName.get('b')!;
  await feed(breakers, b, times(10, 'failure'));
  const reloaded = configWith({ resetTimeoutMs: 60_000, volumeThreshold: 50 });
  reloaded.clusters = { a: reloaded.clusters.a, c: { ...reloaded.clusters.b } };
  reloaded.routes = [{ name: 'shop', match: { pathPrefix: '/' }, clusters: ['a', 'c'] }];
  breakers.applyConfig(runtimeOf(reloaded));
  assert.equal(breakers.state('a'), 'open', 'a kept its state although its settings changed');
  assert.equal(breakers.state('c'), 'closed', 'a new cluster starts closed');
  assert.deepEqual(Object.keys(breakers.states()).sort(), ['a', 'c'], 'the removed cluster is gone');
  breakers.applyConfig(runtimeOf(reloaded));
  assert.equal(breakers.state('a'), 'open', 'an unchanged reload keeps the same breaker');
});
