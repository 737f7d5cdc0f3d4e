/**
 * Per-request functions of the gateway, for `npm run bench:loop -- bench/loops/hot-path.ts`: the
 * scored decision on the bench topology, the client address behind a trusted proxy, the upstream
 * headers of the bench's requests and of a browser's, and the access line's quoting.
 */
import { randomUUID } from 'node:crypto';
import { buildRuntimeConfig } from '../../src/config/runtime.ts';
import { configSchema } from '../../src/config/schema.ts';
import { decideForRoute } from '../../src/decision/decide.ts';
import type { GeoInfo } from '../../src/geo/types.ts';
import { compileTrustedProxies, resolveClientAddress } from '../../src/ingress/client-address.ts';
import { quoted } from '../../src/log/access.ts';
import { upstreamRequestHeaders } from '../../src/proxy/headers.ts';
import { closedBreakers, emptySnapshot, type ClusterView } from '../../src/state/snapshot.ts';
import { clientAddresses } from '../profiles.ts';

const VARIANTS = 1000;
const addresses = clientAddresses(VARIANTS);

const runtime = buildRuntimeConfig(configSchema.parse({
  geo: { defaultRegion: 'east-china' },
  regions: {
    'east-china': { location: [31.23, 121.47], subdivisions: ['CN-SH', 'CN-ZJ', 'CN-JS', 'CN-AH'] },
    'south-china': { location: [23.13, 113.26], subdivisions: ['CN-GD', 'CN-GX', 'CN-FJ', 'CN-HI'] },
  },
  clusters: {
    'trade-east': { region: 'east-china', role: 'primary', endpoints: ['http://127.0.0.1:1'] },
    'trade-south': { region: 'south-china', role: 'trade', endpoints: ['http://127.0.0.1:2'] },
    'promo-standby': { region: 'east-china', role: 'standby', endpoints: ['http://127.0.0.1:3'] },
  },
  routes: [
    { name: 'payment-webhooks', match: { pathPrefix: '/webhooks/payment/', methods: ['POST'] }, pin: 'trade-east' },
    { name: 'storefront', match: { pathPrefix: '/' }, clusters: ['trade-east', 'trade-south'], standby: { cluster: 'promo-standby', dial: 0 } },
  ],
}), 'bench.yaml');
const view: ClusterView = { healthy: true, drained: false, latencyMs: 3.25, p99Ms: 9.5, errorRate: 0, inflight: 2, availableSinceMs: 0 };
const snapshot = { ...emptySnapshot, clusters: new Map([['trade-east', view], ['trade-south', { ...view, latencyMs: 4.5 }], ['promo-standby', view]]) };
const decisionContext = { runtime, snapshot, breakers: closedBreakers, nowMs: 1_000_000, random: Math.random };
const storefront = runtime.routes[1];
/** Clients spread over the world, so most costs take the distance path. */
const geos: GeoInfo[] = Array.from({ length: VARIANTS }, (_, i) =>
  ({ country: 'US', subdivision: 'US-CA', continent: 'NA', latitude: -60 + (i % 120), longitude: -170 + ((i * 7) % 340) }));
const decisionRequests = geos.map((geo, i) => ({
  method: 'GET', host: 'shop.example', path: '/catalog/items/42', headers: {}, clientIp: addresses[i], geo, clientKey: addresses[i],
}));

const trusted = compileTrustedProxies(['127.0.0.1/32', '::1/128']);
const benchHeaders = addresses.map((address) => ['host', '127.0.0.1:8080', 'x-forwarded-for', address]);
const browserHeaders = [
  'Host', 'shop.example', 'User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36', 'Accept', 'text/html,application/xhtml+xml',
  'Accept-Language', 'zh-CN,zh;q=0.9', 'Accept-Encoding', 'gzip, deflate, br', 'Cookie', 'sid=abc123; cart=42',
  'Connection', 'keep-alive', 'X-Forwarded-For', '198.51.100.7',
];
const forwarding = { peer: '127.0.0.1', peerTrusted: true, requestId: randomUUID(), geo: geos[0] };
const requestIds = Array.from({ length: VARIANTS }, () => randomUUID());

let next = 0;
const nextIndex = () => (next = (next + 1) % VARIANTS);

export const cases: Record<string, () => unknown> = {
  'decision (scored route)': () => decideForRoute(storefront, decisionRequests[nextIndex()], decisionContext),
  'client address (trusted peer + XFF)': () => resolveClientAddress('127.0.0.1', addresses[nextIndex()], trusted, trusted.has('127.0.0.1')),
  'upstream headers (bench: 2)': () => upstreamRequestHeaders(benchHeaders[nextIndex()], forwarding),
  'upstream headers (browser: 9)': () => upstreamRequestHeaders(browserHeaders, forwarding),
  'access line strings (id, path, address)': () => {
    const i = nextIndex();
    return quoted(requestIds[i]).length + quoted('/catalog/items/42').length + quoted(addresses[i]).length;
  },
};
