import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.ts';
import { echo, startUpstream, type Upstream, type UpstreamBehaviour } from '../helpers/upstream.ts';
import { startGuardedGateway } from './guarded.ts';

const failing: UpstreamBehaviour = (_req, res) => { res.writeHead(500).end(); };
const baseEjectionMs = 10_000;

function poolConfig(endpoints: string[]): ConfigInput {
  return {
    regions: { here: { location: [0, 0] } },
    clusters: {
      pool: {
        region: 'here', endpoints,
        outlier: { consecutiveFailures: 3, baseEjectionMs, maxEjectionPercent: 50 },
        breaker: { errorThresholdPercentage: 100 }, // this test is about endpoints, not the cluster
      },
    },
    routes: [{ name: 'all' }],
  };
}

/** Three endpoints, the gateway, and a clock the test moves. */
async function setUp(t: TestContext, behaviours: (UpstreamBehaviour | undefined)[]) {
  const upstreams: Upstream[] = [];
  for (const [i, behaviour] of behaviours.entries()) upstreams.push(await startUpstream(t, `e${i}`, behaviour));
  const clock = { nowMs: 1_000_000 };
  const gw = await startGuardedGateway(t, poolConfig(upstreams.map((u) => u.url)), { nowMs: () => clock.nowMs });
  const ejected = () => gw.guard.outliers.ejected().map((e) => upstreams.findIndex((u) => u.url === e.endpoint));
  return { upstreams, clock, gw, ejected };
}

test('an erroring endpoint is ejected, traffic continues on the others, and it comes back after the ejection time', async (t) => {
  const { upstreams: [e0, e1, e2], clock, gw, ejected } = await setUp(t, [undefined, failing, undefined]);
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) statuses.push((await gw.request()).status);
  assert.equal(e1.count(), 3, 'ejected after 3 consecutive failures');
  assert.equal(statuses.filter((s) => s === 500).length, 3);
  assert.equal(e0.count() + e2.count(), 27);
  assert.deepEqual(ejected(), [1]);

  e1.behave(echo('e1'));
  clock.nowMs += baseEjectionMs;
  assert.deepEqual(ejected(), []);
  for (let i = 0; i < 9; i++) assert.equal((await gw.request()).status, 200);
  assert.equal(e1.count(), 6, 'back in the round robin');
});

test('an endpoint refusing connections is ejected; clients never notice, nothing is retried once it is out', async (t) => {
  const { upstreams: [, e1], gw, ejected } = await setUp(t, [undefined, undefined, undefined]);
  await e1.close();
  for (let i = 0; i < 30; i++) assert.equal((await gw.request()).status, 200);
  assert.deepEqual(ejected(), [1]);
  const retriedOnAnotherEndpoint = gw.records.filter((r) => r.attempts > 1).length;
  assert.equal(retriedOnAnotherEndpoint, 3, 'refused connections were retried on another endpoint until the ejection');
  assert.deepEqual(gw.records.slice(-20).map((r) => r.attempts), new Array(20).fill(1));
  assert.equal(gw.records.reduce((sum, r) => sum + r.retries, 0), 0, 'no cross-cluster retry, no budget spent');
});

test('never more than maxEjectionPercent of the endpoints are ejected at once', async (t) => {
  const { upstreams: [e0, e1, e2], clock, gw, ejected } = await setUp(t, [failing, failing, undefined]);
  const maxEjected = Math.floor(3 * 50 / 100);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 30; i++) {
      await gw.request();
      assert.ok(ejected().length <= maxEjected, `${ejected().length} ejected`);
    }
    assert.equal(ejected().length, maxEjected);
    clock.nowMs += 10 * baseEjectionMs;
  }
  assert.ok(e0.count() > 3 && e1.count() > 3, 'the failing endpoint that is not ejected keeps its share');
  assert.ok(e2.count() > 30);
});
