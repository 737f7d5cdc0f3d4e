/** The supervisor's restart delay: 1 s, doubling while a worker keeps dying quickly, at most 30 s, back to 1 s after a good run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextRestartDelayMs } from '../../src/workers/restart-backoff.ts';

test('restart delays double on quick repeats up to 30 s and reset after a stable run', () => {
  const cases: [previousMs: number | undefined, livedMs: number, expectedMs: number][] = [
    [undefined, 10, 1000],
    [1000, 500, 2000],
    [2000, 500, 4000],
    [16_000, 500, 30_000],
    [30_000, 500, 30_000],
    [30_000, 59_999, 30_000],
    [30_000, 60_000, 1000],
  ];
  for (const [previousMs, livedMs, expectedMs] of cases) {
    assert.equal(nextRestartDelayMs(previousMs, livedMs), expectedMs, `after ${previousMs} ms, lived ${livedMs} ms`);
  }
});
