import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startInstance } from '../spool/instance.ts';
import { startPrimary } from '../spool/primary.ts';
import { postWebhook, sha256, snapshotOf, webhookConfig, webhookRoute } from '../spool/fixtures.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { send } from '../helpers/client.ts';
import type { BreakerState, FleetSnapshot } from '../../src/state/snapshot.ts';

/** A client in Guangdong: geo alone would pick trade-south. */
const guangdong = { lookup: () => ({ continent: 'AS', country: 'CN', subdivision: 'CN-GD', latitude: 23.13, longitude: 113.26 }) };

interface World {
  readonly name: string;
  readonly snapshot: FleetSnapshot;
  readonly breakers: Record<string, BreakerState>;
  /** Where the storefront goes in this world: proof that the world really changed routing. */
  readonly storefront: string;
}

const worlds: World[] = [
  { name: 'configured dial 100 to standby', snapshot: snapshotOf({}), breakers: {}, storefront: 'promo-standby' },
  { name: 'dial overrides (storefront 0, webhooks 100), geo favours south', snapshot: snapshotOf({}, { storefront: 0, [webhookRoute]: 100 }), breakers: {}, storefront: 'trade-south' },
  { name: 'trade-south overflowing', snapshot: snapshotOf({ 'trade-south': { inflight: 5000 } }, { storefront: 0 }), breakers: {}, storefront: 'promo-standby' },
  { name: 'south drained, standby breaker open', snapshot: snapshotOf({ 'trade-south': { drained: true } }), breakers: { 'promo-standby': 'open' }, storefront: 'trade-east' },
  { name: 'south breaker open, standby drained', snapshot: snapshotOf({ 'promo-standby': { drained: true } }), breakers: { 'trade-south': 'open' }, storefront: 'trade-east' },
];

test('a pinned route goes to its cluster whatever dials, overflow, affinity, geo and the other clusters\' drains and breakers say', async (t) => {
  const primary = await startPrimary(t);
  const south = await startUpstream(t, 'south');
  const standby = await startUpstream(t, 'standby');
  const gw = await startInstance(webhookConfig({ primary: [primary.url], south: south.url, standby: standby.url }), { geo: guangdong });
  t.after(() => gw.close());
  for (const world of worlds) {
    gw.snapshot = world.snapshot;
    gw.breakerStates.clear();
    for (const [cluster, state] of Object.entries(world.breakers)) gw.breakerStates.set(cluster, state);
    const shop = await send(`${gw.url}/cart`, { headers: { host: 'shop.example' } });
    assert.equal(shop.headers['x-switchyard-cluster'], world.storefront, `${world.name}: storefront`);
    const body = randomBytes(512);
    const hook = await postWebhook(`${gw.url}/webhooks/payment/alipay`, ['Host', 'pay.example', 'Cookie', 'sy_cluster=trade-south'], body);
    assert.equal(hook.status, 200, world.name);
    assert.equal(hook.headers['x-switchyard-cluster'], 'trade-east', `${world.name}: webhook`);
    assert.equal(primary.arrivals.at(-1)!.sha256, sha256(body));
  }
  const webhooksElsewhere = [...south.received, ...standby.received].filter((r) => r.url.startsWith('/webhooks/'));
  assert.equal(webhooksElsewhere.length, 0);
  assert.ok(gw.records.filter((r) => r.route === webhookRoute).every((r) => r.retries === 0 && r.attempts === 1));
});

test('a pinned cluster failing only its health checks still receives webhooks (panic, SPEC §4)', async (t) => {
  const primary = await startPrimary(t);
  const gw = await startInstance(webhookConfig({ primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9' }));
  t.after(() => gw.close());
  gw.snapshot = snapshotOf({ 'trade-east': { healthy: false } });
  const body = randomBytes(100);
  const hook = await postWebhook(`${gw.url}/webhooks/payment/alipay`, ['Host', 'pay.example'], body);
  assert.equal(hook.status, 200);
  assert.equal(primary.arrivals[0].sha256, sha256(body));
  assert.equal(gw.records.at(-1)!.panic, true);
});
