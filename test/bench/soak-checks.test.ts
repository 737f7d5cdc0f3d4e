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
    elapsedSeconds: (index + 1) * 10, warmUp: index < 2, rssBytes: (rss + 100) * MIB, anonBytes: rss * MIB, fds: 80, handles: handles[index],
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
  it('pass when RSS stays flat after a warm-up that grew it', () => {
    const checks = judgeSoak(outcome(samples([100, 180, 200, 204, 198, 201, 203, 199])));
    assert.equal(check(checks, 'RSS').passed, true);
    assert.equal(soakPassed(checks), true);
  });

  it('fail when RSS climbs more than 10 % off its median after the warm-up', () => {
    const checks = judgeSoak(outcome(samples([200, 200, 200, 210, 220, 230, 240, 250])));
    assert.equal(check(checks, 'RSS').passed, false);
    assert.equal(soakPassed(checks), false);
  });

  it('judge anonymous memory: file-backed pages the kernel reclaims move total RSS without failing', () => {
    const flat = samples([200, 200, 200, 201, 200, 202, 201, 200]);
    // The kernel dropped 80 MiB of the node binary's pages at the fourth sample and faulted them back later.
    const reclaimed = flat.map((sample, index) => ({ ...sample, rssBytes: sample.rssBytes! - (index === 3 ? 80 * MIB : 0) }));
    const checks = judgeSoak(outcome(reclaimed));
    assert.equal(check(checks, 'RSS after warm-up (anonymous)').passed, true);
    assert.equal(check(checks, 'RSS after warm-up (total)').passed, null);
    assert.match(check(checks, 'RSS after warm-up (total)').result, /max deviation 2\d\.\d %/);
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
