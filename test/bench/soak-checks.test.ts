/** The soak's checks on made-up samples: flat memory passes, growth fails, warm-up and spikes do not decide. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult } from '../../bench/load.ts';
import type { Sample } from '../../bench/soak-sampler.ts';
import { judgeSoak, soakPassed, type Check, type SoakOutcome } from '../../bench/soak-verdict.ts';

const MIB = 1024 * 1024;
const cleanLoad: RunResult = { requestsPerSecond: 1000, p50Ms: 1, p99Ms: 2, failures: 0 };

/** Samples every 10 s; the first two are warm-up. `rssMib` and `handles` give one value per sample. */
function samples(rssMib: readonly number[], handles: readonly number[] = rssMib.map(() => 50)): Sample[] {
  return rssMib.map((rss, index) => ({
    elapsedSeconds: (index + 1) * 10, warmUp: index < 2, rssBytes: rss * MIB, anonBytes: (rss - 57) * MIB, fds: 80, handles: handles[index],
    heapUsedBytes: 40 * MIB, requestsPerSecond: 1000, cpuPercent: 30, otherPercent: 0,
  }));
}

function outcome(sampled: Sample[], load = cleanLoad): SoakOutcome {
  return { samples: sampled, load, loadSeconds: 60, askedRate: 1000, exited: null };
}

function check(checks: readonly Check[], name: string): Check {
  return checks.find((candidate) => candidate.name.startsWith(name))!;
}

describe('soak checks', () => {
  it('pass when RSS stays at the level the warm-up reached', () => {
    const checks = judgeSoak(outcome(samples([100, 200, 200, 204, 198, 201, 203, 199])));
    assert.equal(check(checks, 'RSS').passed, true);
    assert.equal(soakPassed(checks), true);
  });

  it('fail when RSS climbs more than 10 % over the warm-up peak', () => {
    const checks = judgeSoak(outcome(samples([200, 200, 200, 210, 220, 230, 240, 250])));
    assert.equal(check(checks, 'RSS').passed, false);
    assert.equal(soakPassed(checks), false);
  });

  it('fail on one level 15 % over the warm-up peak even while the median stays flat', () => {
    const checks = judgeSoak(outcome(samples([200, 200, 200, 200, 200, 200, 200, 230])));
    assert.equal(check(checks, 'RSS').passed, false);
  });

  it('pass when the heap gives memory back and takes it again (steps down, never above the warm-up)', () => {
    // What a 10-minute soak showed: V8 returning heap pages after full collections.
    const checks = judgeSoak(outcome(samples([300, 308, 300, 211, 247, 300, 219, 246])));
    assert.equal(check(checks, 'RSS').passed, true);
    assert.match(check(checks, 'RSS').result, /min 211\.0 MiB .* warm-up peak 308\.0 MiB, growth over it -2\.6 %/);
    assert.equal(check(checks, 'anonymous RSS').passed, null, 'anonymous RSS informs only');
    assert.equal(soakPassed(checks), true);
  });

  it('fail when handles grow steadily, and pass over one spike', () => {
    const flatRss = new Array<number>(8).fill(200);
    const growing = judgeSoak(outcome(samples(flatRss, [50, 50, 50, 52, 54, 56, 58, 60])));
    assert.equal(check(growing, 'active handles').passed, false);
    const spike = judgeSoak(outcome(samples(flatRss, [50, 50, 50, 50, 80, 50, 50, 50])));
    assert.equal(check(spike, 'active handles').passed, true);
  });

  it('fail when more than 0.1 % of the requests failed', () => {
    const checks = judgeSoak(outcome(samples([200, 200, 200, 200, 200, 200]), { ...cleanLoad, failures: 100 }));
    assert.equal(check(checks, 'failed requests').passed, false);
  });

  it('fail when Switchyard exited during the soak', () => {
    const checks = judgeSoak({ ...outcome(samples([200, 200, 200, 200, 200])), exited: 'exited after 30 s (1)' });
    assert.equal(check(checks, 'Switchyard process').passed, false);
  });
});
