import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuProbe, SLOW_MACHINE_FACTOR } from '../../bench/cpu-probe.ts';
import { machineSpeedNote } from '../../bench/report.ts';

test('the probe child times loopback round trips and a loop, and calls a run slow only against its best', async (t) => {
  const probe = new CpuProbe(null);
  t.after(() => probe.stop());
  const first = await probe.measure();
  const second = await probe.measure();
  for (const times of [first, second]) {
    assert.ok(times.roundTripsMs > 0 && times.loopMs > 0, JSON.stringify(times));
  }
  assert.equal(probe.times.length, 2);
  const best = probe.bestRoundTripsMs;
  assert.equal(best, Math.min(first.roundTripsMs, second.roundTripsMs));
  assert.equal(probe.isSlow(best * SLOW_MACHINE_FACTOR * 1.01), true);
  assert.equal(probe.isSlow(best * SLOW_MACHINE_FACTOR * 0.99), false);
});

test('the speed note gives both spreads and says what was repeated or kept', () => {
  const times = [{ roundTripsMs: 50, loopMs: 110 }, { roundTripsMs: 100, loopMs: 120 }, { roundTripsMs: 60, loopMs: 115 }];
  assert.equal(machineSpeedNote([], { repeated: 0, kept: 0 }), null);
  const steady = machineSpeedNote(times, { repeated: 0, kept: 0 })!;
  assert.match(steady, /round trips best 50 ms, median 60 ms, slowest 100 ms \(2\.00×\); an integer loop best 110 ms/);
  assert.doesNotMatch(steady, /repeated/);
  const slow = machineSpeedNote(times, { repeated: 3, kept: 1 })!;
  assert.match(slow, /3 run\(s\) repeated because the round trips were over 1\.5× the best, ⚠ 1 kept slow/);
});
