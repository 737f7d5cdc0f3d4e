import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rendezvousOwners } from '../../src/health/rendezvous.ts';
import type { FleetState } from '../../src/state/fleet.ts';
import { startRedis } from '../helpers/redis.ts';
import { fleetConfig, sleep, startFleet, startHealthUpstream, waitFor, type HealthUpstream } from '../state/fleet-fixture.ts';

test('rendezvous hashing moves only the endpoints a leaving member probed', () => {
  const members = ['pod-1', 'pod-2', 'pod-3', 'pod-4', 'pod-5'];
  const endpoints = Array.from({ length: 200 }, (_, i) => `east http://10.0.0.${i}`);
  const before = new Map(endpoints.map((e) => [e, rendezvousOwners(e, members, 2)]));
  const after = new Map(endpoints.map((e) => [e, rendezvousOwners(e, members.filter((m) => m !== 'pod-3'), 2)]));
  const load = new Map<string, number>();
  for (const [endpoint, owners] of before) {
    assert.equal(owners.length, 2);
    for (const o of owners) load.set(o, (load.get(o) ?? 0) + 1);
    if (!owners.includes('pod-3')) assert.deepEqual(after.get(endpoint), owners, 'unaffected endpoint kept its probers');
    else assert.ok(after.get(endpoint)!.includes(owners.find((o) => o !== 'pod-3')!), 'the surviving prober stays');
  }
  for (const [member, count] of load) assert.ok(count > 40 && count < 120, `${member} probes ${count} of 400 slots`);
  assert.deepEqual(rendezvousOwners('x', ['only'], 3), ['only'], 'a fleet smaller than probers: everyone probes');
});

/** Waits until every endpoint has received `atLeast` probes since a reset, and returns who probed each. */
async function probersOf(upstreams: readonly HealthUpstream[], atLeast: number): Promise<string[][]> {
  for (const u of upstreams) u.reset();
  await waitFor('enough probes', () => upstreams.every((u) => u.total() >= atLeast));
  return upstreams.map((u) => [...u.probes.keys()].sort());
}

test('each endpoint is probed by exactly `probers` live instances, also after a prober dies', async (t) => {
  const redis = await startRedis(t);
  const upstreams = await Promise.all([1, 2, 3].map(() => startHealthUpstream(t)));
  // A generous staleAfterMs: a live member going stale under load would change the plan mid-count.
  const config = fleetConfig({ redis: redis.url, clusters: { east: upstreams.map((u) => u.url) }, healthCheck: { probers: 2 }, staleAfterMs: 1000 });
  const ids = ['i1', 'i2', 'i3', 'i4', 'i5'];
  const fleets = new Map<string, FleetState>();
  for (const id of ids) fleets.set(id, await startFleet(t, config, id));
  await waitFor('all five see each other', () => [...fleets.values()].every((f) => f.snapshot().liveInstances === 5));
  await sleep(300); // probes already in flight under an earlier plan land first

  const probers = await probersOf(upstreams, 12);
  for (const [i, p] of probers.entries()) assert.equal(p.length, 2, `endpoint ${i} probed by ${p.join(', ')}`);
  assert.deepEqual(probers, upstreams.map((u) => rendezvousOwners(`east ${u.url}`, ids, 2).sort()));

  const victim = probers[0][0];
  await fleets.get(victim)!.stop({ deregister: false }); // dies without cleanup: its entry has to go stale
  fleets.delete(victim);
  await waitFor('the others drop the dead instance', () => [...fleets.values()].every((f) => f.snapshot().liveInstances === 4));
  await sleep(300);

  const after = await probersOf(upstreams, 12);
  for (const [i, p] of after.entries()) {
    assert.equal(p.length, 2, `endpoint ${i} probed by ${p.join(', ')}`);
    assert.ok(!p.includes(victim));
  }
  assert.ok(after[0].includes(probers[0][1]), 'the surviving prober of endpoint 0 kept probing it');
  for (const f of fleets.values()) assert.equal(f.snapshot().clusters.get('east')?.healthy, true);
});
