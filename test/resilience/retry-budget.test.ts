import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultMinRetries } from '../../src/breakers/retry-budget.ts';
import { startUpstream, type UpstreamBehaviour } from '../helpers/upstream.ts';
import { startGuardedGateway, twoClusters } from './guarded.ts';
import { startLoad } from './load.ts';

const unavailable: UpstreamBehaviour = (_req, res) => { res.writeHead(503).end(); };
/** Breakers that never open (no error rate is above 100%), so every request reaches the retry path. */
const breaker = { errorThresholdPercentage: 100 };

// The whole run fits in one budget window (10 s), so the bound is
//   attempts ≤ requests × (1 + budgetPercent / 100) + minRetries
// where minRetries (3) is what a quiet route may retry whatever the ratio.
for (const budgetPercent of [20, 50]) {
  test(`with every cluster answering 503, retries stay within a ${budgetPercent}% budget`, async (t) => {
    const a = await startUpstream(t, 'a', unavailable);
    const b = await startUpstream(t, 'b', unavailable);
    const gw = await startGuardedGateway(t, twoClusters({ endpoints: [a.url], breaker }, { endpoints: [b.url], breaker },
      { retry: { attempts: 1, budgetPercent } }));
    const requests = 500;
    const load = startLoad({ url: gw.url, connections: 10, amount: requests });
    const result = await load.done;
    assert.equal(result.errors, 0);
    assert.equal(load.seen.length, requests);
    const attempts = a.count() + b.count();
    const bound = requests * (1 + budgetPercent / 100) + defaultMinRetries;
    t.diagnostic(`${attempts} upstream attempts for ${requests} requests (bound ${bound})`);
    assert.ok(attempts <= bound, `${attempts} upstream attempts for ${requests} requests exceed ${bound}`);
    assert.ok(attempts >= requests + Math.floor(requests * budgetPercent / 100) - defaultMinRetries,
      `${attempts} attempts: the budget was not used`);
    assert.equal(gw.records.reduce((sum, r) => sum + r.retries, 0), attempts - requests);
  });
}
