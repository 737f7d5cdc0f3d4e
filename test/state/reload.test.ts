import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BreakerState, FleetSnapshot } from '../../src/state/snapshot.ts';
import { fleetConfig, startFleet, startHealthUpstream, waitFor } from './fleet-fixture.ts';

test('a reload keeps the state of clusters that kept their name, starts new ones empty and drops removed ones', async (t) => {
  const east = await startHealthUpstream(t);
  const west = await startHealthUpstream(t);
  const fleet = await startFleet(t, fleetConfig({ clusters: { east: [east.url], south: [east.url] } }), 'solo');
  const handle = fleet.observations.cluster('east');
  handle.begin();
  handle.end(250, false);
  await waitFor('east healthy with latency', () => fleet.snapshot().clusters.get('east')?.healthy === true
    && fleet.snapshot().clusters.get('east')?.latencyMs === 250);

  fleet.applyConfig(fleetConfig({ clusters: { east: [east.url], west: [west.url] } }));
  const snapshot = fleet.snapshot();
  assert.deepEqual([...snapshot.clusters.keys()], ['east', 'west']);
  assert.equal(snapshot.clusters.get('east')?.healthy, true, 'health carried over');
  assert.equal(snapshot.clusters.get('east')?.latencyMs, 250, 'latency carried over');
  assert.equal(snapshot.clusters.get('east')?.availableSinceMs, 0);
  assert.equal(snapshot.clusters.get('west')?.healthy, undefined, 'a new cluster starts with no view');
  assert.equal(fleet.observations.cluster('east'), handle, 'the proxy\'s handle stays valid');
  await waitFor('the new cluster is probed', () => fleet.snapshot().clusters.get('west')?.healthy === true);
  assert.equal(fleet.status().clusters.south, undefined);
});

test('availableSinceMs follows breakers too, and every snapshot is handed to onSnapshot', async (t) => {
  const upstream = await startHealthUpstream(t);
  const breakers = new Map<string, BreakerState>();
  const seen: FleetSnapshot[] = [];
  const fleet = await startFleet(t, fleetConfig({ clusters: { east: [upstream.url] } }), 'solo', {
    breakers: { state: (c) => breakers.get(c) ?? 'closed' },
    onSnapshot: (s) => seen.push(s),
  });
  assert.ok(seen.length >= 1 && seen.at(-1) === fleet.snapshot());
  breakers.set('east', 'open');
  await fleet.refresh();
  const reopenedAt = Date.now();
  breakers.set('east', 'half-open');
  await fleet.refresh();
  assert.ok(fleet.snapshot().clusters.get('east')!.availableSinceMs >= reopenedAt);
  assert.equal(fleet.status().clusters.east.reports.solo.breaker, 'half-open');
});
