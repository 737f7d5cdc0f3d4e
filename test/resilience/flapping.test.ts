import { test } from 'node:test';
import assert from 'node:assert/strict';
import { echo, startUpstream, type UpstreamBehaviour } from '../helpers/upstream.ts';
import { clusterOf, startGuardedGateway, twoClusters } from './guarded.ts';

const flapEveryMs = 2000;
const runMs = 20_000;
const resetTimeoutMs = 3000;
const breaker = { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeoutMs, rollingWindowMs: 1000 };

/** Healthy for 2 s, 500s for 2 s, and so on. */
function flapping(startMs: number): UpstreamBehaviour {
  const healthy = echo('a');
  return (req, res, body) => {
    if (Math.floor((Date.now() - startMs) / flapEveryMs) % 2 === 0) healthy(req, res, body);
    else res.writeHead(500).end();
  };
}

/** How often consecutive answers came from different clusters. */
function switches(clusters: readonly string[]): number {
  let n = 0;
  for (let i = 1; i < clusters.length; i++) if (clusters[i] !== clusters[i - 1]) n++;
  return n;
}

// Requests are sent one at a time, so the answers' order is the decisions' order. Cluster `a` is
// preferred; `b` serves only while a's breaker reads open. Each opening of a's breaker causes at most
// two switches: a → b when it opens, b → a for its half-open trial (which either stays on a or opens
// the breaker again). Two openings are at least resetTimeoutMs apart (open lasts that long before the
// trial), so over T ms there are at most floor(T / resetTimeoutMs) + 1 openings:
//   switches ≤ 2 × (floor(T / resetTimeoutMs) + 1)
// whatever the flapping period. Without that bound a cluster flapping every 2 s could pull traffic
// back and forth on every flap, or on every request during a half-open storm.
test('a flapping cluster moves traffic no more often than its breaker\'s reset timeout allows', async (t) => {
  const startMs = Date.now();
  const a = await startUpstream(t, 'a', flapping(startMs));
  const b = await startUpstream(t, 'b');
  const gw = await startGuardedGateway(t, twoClusters({ endpoints: [a.url], breaker }, { endpoints: [b.url], breaker }));
  const clusters: string[] = [];
  while (Date.now() - startMs < runMs) clusters.push(clusterOf(await gw.request()));
  const elapsedMs = Date.now() - startMs;

  const bound = 2 * (Math.floor(elapsedMs / resetTimeoutMs) + 1);
  const observed = switches(clusters);
  const returns = clusters.filter((c, i) => i > 0 && c === 'a' && clusters[i - 1] === 'b').length;
  t.diagnostic(`${clusters.length} requests in ${elapsedMs} ms: ${observed} switches (bound ${bound}), ${returns} returns to a`);
  assert.ok(observed >= 2, 'the breaker opened and the half-open trial went back to a');
  assert.ok(observed <= bound, `${observed} switches exceed ${bound}`);
  assert.ok(clusters.filter((c) => c === 'b').length > 0);
});
