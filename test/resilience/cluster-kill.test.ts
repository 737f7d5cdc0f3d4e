import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { send } from '../helpers/client.ts';
import { echo, startUpstream, type UpstreamBehaviour } from '../helpers/upstream.ts';
import { startGuardedGateway, twoClusters } from './guarded.ts';
import { startLoad, type Seen } from './load.ts';

/** Answers after a few ms, so that requests are in flight when the cluster dies. */
const busy = (name: string): UpstreamBehaviour => (req, res, body) => { setTimeout(() => echo(name)(req, res, body), 5).unref(); };

/** A short window: the breaker judges the last second, not ten seconds of health before the kill. */
const breaker = { volumeThreshold: 20, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, rollingWindowMs: 1000 };

interface PostLoop {
  readonly seen: Seen[];
  /** POSTs sent and not answered yet. */
  outstanding: number;
  stop(): Promise<void>;
}

/** `workers` clients POSTing back to back over keep-alive connections until stopped. */
function startPosts(url: string, workers: number): PostLoop {
  const agent = new Agent({ keepAlive: true, maxSockets: workers });
  let running = true;
  const loop: PostLoop = { seen: [], outstanding: 0, stop: async () => { running = false; await all; agent.destroy(); } };
  const worker = async () => {
    while (running) {
      loop.outstanding++;
      const answer = await send(url, { method: 'POST', body: '{"order":1}', agent }).catch(() => undefined);
      loop.outstanding--;
      loop.seen.push({ atMs: performance.now(), status: answer?.status ?? 0, cluster: String(answer?.headers['x-switchyard-cluster'] ?? 'none') });
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  return loop;
}

const failed = (s: Seen) => s.status === 0 || s.status >= 500;

test('a cluster killed under load: GETs move to the other cluster without failing, POSTs fail only if in flight', async (t) => {
  const a = await startUpstream(t, 'a', busy('a'));
  const b = await startUpstream(t, 'b', busy('b'));
  const gw = await startGuardedGateway(t, twoClusters({ endpoints: [a.url], breaker }, { endpoints: [b.url], breaker }));
  let openedAtMs = 0;
  gw.guard.breakers.onStateChange((cluster, state) => {
    if (cluster === 'a' && state === 'open' && openedAtMs === 0) openedAtMs = performance.now();
  });
  const gets = startLoad({ url: gw.url, connections: 8, durationSeconds: 8, overallRate: 600 });
  const posts = startPosts(gw.url, 4);
  // Until the breaker opens, every request meets the dead cluster first and needs a retry. Opening takes
  // about half the breaker window (failures must outnumber the window's successes), longer when the
  // event loop is busy; the retry budget (20% of the last 10 s of requests) covers that as long as it
  // is under a quarter of the history before the kill: 6 s of history covers 1.5 s.
  await sleep(6000);
  assert.equal(b.count(), 0, 'before the kill, the preferred cluster takes everything');
  const postsInFlightAtKill = posts.outstanding;
  const killedAtMs = performance.now();
  await a.close();
  const summary = await gets.done;
  await posts.stop();

  const after = [...gets.seen, ...posts.seen].filter((s) => s.atMs >= killedAtMs);
  const firstElsewhere = after.filter((s) => s.cluster === 'b' && s.status < 300).reduce((m, s) => Math.min(m, s.atMs), Infinity);
  const failedGets = gets.seen.filter(failed).length + gets.errorsAt.length;
  const failedPosts = posts.seen.filter(failed).length;
  t.diagnostic(`GETs ${gets.seen.length} (${summary.errors} socket errors), POSTs ${posts.seen.length}`);
  t.diagnostic(`kill → first success on the other cluster: ${(firstElsewhere - killedAtMs).toFixed(1)} ms`);
  t.diagnostic(`kill → breaker open (all traffic moved): ${(openedAtMs - killedAtMs).toFixed(1)} ms`);
  const lastFailure = after.filter(failed).reduce((m, s) => Math.max(m, s.atMs), killedAtMs);
  t.diagnostic(`kill → last failed request: ${(lastFailure - killedAtMs).toFixed(1)} ms`);
  t.diagnostic(`failed GETs ${failedGets}; failed POSTs ${failedPosts} of ${postsInFlightAtKill} in flight at the kill`);

  assert.ok(openedAtMs > killedAtMs, 'the breaker opened after the kill');
  assert.equal(failedGets, 0, 'GETs are retried on the other cluster, within the budget');
  assert.ok(failedPosts <= postsInFlightAtKill, 'only POSTs already written upstream fail');
  assert.ok(after.filter((s) => s.atMs > openedAtMs).every((s) => s.cluster === 'b' && s.status < 300),
    'once the breaker is open, everything is served elsewhere');
  assert.ok(gets.seen.length > 1000, 'the load ran');
});
