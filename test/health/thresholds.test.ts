import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThresholdVerdict } from '../../src/health/threshold.ts';
import { fleetConfig, startFleet, startHealthUpstream, waitFor } from '../state/fleet-fixture.ts';

test('a verdict needs consecutive results: healthy after N successes, unhealthy after M failures', () => {
  const verdict = new ThresholdVerdict();
  const steps: [boolean, boolean | undefined][] = [
    [true, undefined], [false, undefined], [true, undefined], [true, true], // 2 successes in a row
    [false, true], [false, true], [true, true], [false, true], [false, true], [false, false], // 3 failures in a row
    [true, false], [true, true],
  ];
  for (const [i, [ok, expected]] of steps.entries()) {
    verdict.record(ok, 2, 3);
    assert.equal(verdict.healthy, expected, `step ${i}`);
  }
});

test('without Redis, one instance judges health from its own probes, respecting thresholds', async (t) => {
  const up = await startHealthUpstream(t);
  const flaky = await startHealthUpstream(t);
  const config = fleetConfig({ clusters: { east: [up.url, flaky.url] }, healthCheck: { healthyThreshold: 3, unhealthyThreshold: 2 } });
  const fleet = await startFleet(t, config, 'solo');
  assert.equal(fleet.snapshot().storeUp, true);

  await waitFor('both endpoints healthy', () => fleet.snapshot().clusters.get('east')?.endpoints?.every((e) => e.healthy === true) === true);
  assert.ok(up.total() >= 3 && flaky.total() >= 3, 'healthy only after 3 successful probes');
  assert.deepEqual(fleet.snapshot().clusters.get('east')?.endpoints?.map((e) => e.url), [up.url, flaky.url]);

  flaky.status = () => 503;
  flaky.reset();
  await waitFor('flaky endpoint unhealthy', () => fleet.snapshot().clusters.get('east')?.endpoints?.[1].healthy === false);
  assert.ok(flaky.total() >= 2, 'unhealthy only after 2 failed probes');
  assert.equal(fleet.snapshot().clusters.get('east')?.healthy, true, 'one healthy endpoint keeps the cluster healthy');

  up.status = () => 500;
  await waitFor('cluster unhealthy', () => fleet.snapshot().clusters.get('east')?.healthy === false);

  up.status = () => 302; // 3xx counts as healthy
  await waitFor('cluster healthy again', () => fleet.snapshot().clusters.get('east')?.healthy === true);
  assert.ok((fleet.snapshot().clusters.get('east')?.availableSinceMs ?? 0) > 0, 'a recovered cluster reports since when');
});

test('a probe that outlives its timeout counts as a failure', async (t) => {
  const slow = await startHealthUpstream(t);
  const config = fleetConfig({ clusters: { east: [slow.url] }, healthCheck: { timeoutMs: 100 } });
  const fleet = await startFleet(t, config, 'solo');
  await waitFor('healthy first', () => fleet.snapshot().clusters.get('east')?.healthy === true);
  slow.status = () => 0; // never answers
  await waitFor('unhealthy on timeouts', () => fleet.snapshot().clusters.get('east')?.healthy === false);
});
