import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from '../../src/config/schema.ts';
import { buildRuntimeConfig } from '../../src/config/runtime.ts';
import { OverflowTracker } from '../../src/standby/overflow.ts';
import { emptySnapshot, type ClusterView, type FleetSnapshot } from '../../src/state/snapshot.ts';

const runtime = buildRuntimeConfig(configSchema.parse({
  regions: { r: { location: [0, 0] } },
  clusters: {
    trade: { region: 'r', role: 'primary', endpoints: ['http://127.0.0.1:1'] },
    standby: { region: 'r', role: 'standby', endpoints: ['http://127.0.0.1:2'] },
  },
  routes: [{ name: 'shop', standby: { cluster: 'standby', overflow: { maxInflight: 100, latencyMs: 800 } } }],
}), 'test.yaml');

const at = (inflight: number, latencyMs = 10): FleetSnapshot => ({
  ...emptySnapshot,
  clusters: new Map<string, ClusterView>([['trade', {
    healthy: true, drained: false, latencyMs, p99Ms: latencyMs, errorRate: 0, inflight, availableSinceMs: 0,
  }]]),
});

test('overflow starts past the limit and ends only below 80% of it', () => {
  const tracker = new OverflowTracker();
  const steps: [number, boolean][] = [[50, false], [101, true], [95, true], [81, true], [79, false], [95, false], [101, true]];
  for (const [inflight, expected] of steps) {
    tracker.update(runtime, at(inflight));
    assert.equal(tracker.overflowing(0, 0), expected, `in-flight ${inflight}`);
  }
});

test('latency past its limit overflows too', () => {
  const tracker = new OverflowTracker();
  tracker.update(runtime, at(0, 900));
  assert.equal(tracker.overflowing(0, 0), true);
  tracker.update(runtime, at(0, 700));
  assert.equal(tracker.overflowing(0, 0), true);
  tracker.update(runtime, at(0, 600));
  assert.equal(tracker.overflowing(0, 0), false);
});
