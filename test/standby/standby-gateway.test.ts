import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.ts';
import { emptySnapshot, type ClusterView, type FleetSnapshot } from '../../src/state/snapshot.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { send } from '../helpers/client.ts';

async function threeClusters(t: Parameters<typeof startUpstream>[0], routeExtra: object): Promise<ConfigInput> {
  const [a, b, s] = await Promise.all([startUpstream(t, 'a'), startUpstream(t, 'b'), startUpstream(t, 'standby')]);
  return {
    trustedProxies: ['127.0.0.1/32'],
    regions: { here: { location: [31.23, 121.47] } },
    geo: { defaultRegion: 'here' },
    clusters: {
      a: { region: 'here', role: 'primary', endpoints: [a.url] },
      b: { region: 'here', role: 'trade', endpoints: [b.url] },
      standby: { region: 'here', role: 'standby', endpoints: [s.url] },
    },
    routes: [{ name: 'shop', match: { pathPrefix: '/' }, ...routeExtra }],
  };
}

const view = (v: Partial<ClusterView>): ClusterView => ({
  healthy: true, drained: false, latencyMs: 0, p99Ms: 0, errorRate: 0, inflight: 0, availableSinceMs: 0, ...v,
});
const snapshotOf = (clusters: Record<string, Partial<ClusterView>>, over: Partial<FleetSnapshot> = {}): FleetSnapshot =>
  ({ ...emptySnapshot, clusters: new Map(Object.entries(clusters).map(([k, v]) => [k, view(v)])), ...over });

function cookieFrom(setCookie: string | string[] | undefined): string | undefined {
  const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  return first?.slice(0, first.indexOf(';'));
}

test('affinity: the cookie keeps a client on its cluster, is rewritten on failover, and a forged one is ignored', async (t) => {
  const config = await threeClusters(t, { standby: { cluster: 'standby' }, affinity: { cookie: 'sy_cluster', secret: 'k' } });
  const gw = await startGateway(t, config);
  const first = await send(gw.url, { headers: { 'x-forwarded-for': '8.8.8.8' } });
  const cluster = first.headers['x-switchyard-cluster'] as string;
  const cookie = cookieFrom(first.headers['set-cookie']);
  assert.ok(cookie?.startsWith(`sy_cluster=${cluster}.`), `cookie names the answering cluster: ${cookie}`);
  for (let i = 0; i < 30; i++) {
    const again = await send(gw.url, { headers: { cookie: cookie!, 'x-forwarded-for': '8.8.8.8' } });
    assert.equal(again.headers['x-switchyard-cluster'], cluster, 'a and b tie: only the cookie keeps the client on one');
    assert.equal(again.headers['set-cookie'], undefined, 'an unchanged choice is not rewritten');
  }
  const other = cluster === 'a' ? 'b' : 'a';
  gw.snapshot = snapshotOf({ [cluster]: { drained: true } });
  const moved = await send(gw.url, { headers: { cookie: cookie!, 'x-forwarded-for': '8.8.8.8' } });
  assert.equal(moved.headers['x-switchyard-cluster'], other);
  assert.ok(cookieFrom(moved.headers['set-cookie'])?.startsWith(`sy_cluster=${other}.`), 'failover rewrites the cookie');
  gw.snapshot = emptySnapshot;
  const forged = cookie!.replace(`sy_cluster=${cluster}.`, `sy_cluster=${other}.`);
  const answer = await send(gw.url, { headers: { cookie: forged, 'x-forwarded-for': '8.8.8.8' } });
  assert.ok(answer.headers['set-cookie'] !== undefined, 'a forged cookie is ignored and replaced');
});

test('dial: a stable share of clients goes to standby through the real gateway', async (t) => {
  const config = await threeClusters(t, { standby: { cluster: 'standby', dial: 30 } });
  const gw = await startGateway(t, config);
  const sides = new Map<string, string>();
  for (let i = 0; i < 1000; i++) {
    const ip = `${11 + (i % 200)}.${(i * 7) % 250}.${i % 250}.${(i * 13) % 250}`;
    const answer = await send(gw.url, { headers: { 'x-forwarded-for': ip } });
    sides.set(ip, answer.headers['x-switchyard-cluster'] === 'standby' ? 'standby' : 'trade');
  }
  const share = [...sides.values()].filter((s) => s === 'standby').length / sides.size;
  assert.ok(Math.abs(share - 0.3) < 0.05, `about 30% on standby, got ${(share * 100).toFixed(1)}%`);
  for (const [ip, side] of [...sides].slice(0, 50)) {
    const again = await send(gw.url, { headers: { 'x-forwarded-for': ip } });
    assert.equal(again.headers['x-switchyard-cluster'] === 'standby' ? 'standby' : 'trade', side, 'the same client, the same side');
  }
  gw.snapshot = snapshotOf({ standby: { drained: true } });
  const back = await send(gw.url, { headers: { 'x-forwarded-for': [...sides].find(([, s]) => s === 'standby')![0] } });
  assert.notEqual(back.headers['x-switchyard-cluster'], 'standby', 'an unavailable standby takes no dial traffic');
  assert.equal(back.status, 200);
});

test('overflow: a busy trade cluster spills to standby and takes traffic back only well under its limit', async (t) => {
  const config = await threeClusters(t, { standby: { cluster: 'standby', overflow: { maxInflight: 100 } } });
  config.clusters!.b.weight = 0;
  const gw = await startGateway(t, config);
  const landing = async (inflight: number) => {
    gw.snapshot = snapshotOf({ a: { inflight } });
    return (await send(gw.url)).headers['x-switchyard-cluster'];
  };
  assert.equal(await landing(50), 'a');
  assert.equal(await landing(150), 'standby');
  assert.equal(await landing(90), 'standby', 'still above 80% of the limit: stays on standby');
  assert.equal(await landing(70), 'a', 'below 80%: traffic returns');
});
