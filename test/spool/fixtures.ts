/**
 * Shared pieces of the pinned webhook and spool tests: a config with a pinned payment route and other
 * clusters that must never see a webhook, a webhook sender with exact header names and order, child
 * instances that can be SIGKILLed, and bounded polling.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders } from 'node:http';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { SpoolTuning } from '../../src/spool/webhook-spool.ts';
import type { ClusterView, FleetSnapshot } from '../../src/state/snapshot.ts';

export const webhookRoute = 'payment-webhooks';

export interface WebhookConfigOptions {
  /** Endpoints of the pinned cluster trade-east. */
  readonly primary: readonly string[];
  readonly south: string;
  readonly standby: string;
  readonly redis?: string;
  readonly spool?: { enabled: boolean; maxAgeSeconds?: number; maxBytes?: number };
  readonly maxBodyBytes?: number;
  readonly keyPrefix?: string;
}

/** trade-east (pinned, primary), trade-south and promo-standby; a storefront route dialled fully to standby. */
export function webhookConfig(options: WebhookConfigOptions): ConfigInput {
  const timeouts = { connectMs: 500, headersMs: 5000, totalMs: 10_000 };
  return {
    trustedProxies: ['127.0.0.1/32'],
    state: { redis: options.redis ?? '', keyPrefix: options.keyPrefix ?? 'sy:' },
    regions: {
      'east-china': { location: [31.23, 121.47], subdivisions: ['CN-SH'] },
      'south-china': { location: [23.13, 113.26], subdivisions: ['CN-GD'] },
    },
    clusters: {
      'trade-east': { region: 'east-china', role: 'primary', endpoints: [...options.primary], timeouts },
      'trade-south': { region: 'south-china', role: 'trade', endpoints: [options.south], timeouts },
      'promo-standby': { region: 'east-china', role: 'standby', endpoints: [options.standby], timeouts },
    },
    routes: [
      {
        name: webhookRoute, match: { pathPrefix: '/webhooks/payment/', methods: ['POST'] }, pin: 'trade-east',
        onUnavailable: { retryAfterSeconds: 30 }, maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
        ...(options.spool === undefined ? {} : { spool: options.spool }),
      },
      {
        name: 'storefront', match: { pathPrefix: '/' }, clusters: ['trade-east', 'trade-south'],
        standby: { cluster: 'promo-standby', dial: 100, overflow: { maxInflight: 1 } },
        affinity: { cookie: 'sy_cluster', secret: 'test' },
      },
    ],
  };
}

/** An answer with its raw headers and body. */
export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

/**
 * POSTs a webhook with headers exactly as given (flat name/value pairs: case and order kept); the body
 * goes with Content-Length, or chunked in 16 KiB pieces.
 */
export function postWebhook(url: string, headers: readonly string[], body: Buffer, chunked = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const framing = chunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(body.length)];
    const req = request(url, { method: 'POST', headers: [...headers, ...framing], agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body: data, json: <T>() => JSON.parse(data.toString()) as T });
      });
    });
    req.on('error', reject);
    if (!chunked) return void req.end(body);
    for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
    req.end();
  });
}

/** Signature headers as payment providers send them, in mixed case. */
export function signatureHeaders(host: string, body: Buffer, requestId?: string): string[] {
  const digest = createHash('sha256').update(body).digest('hex');
  return [
    'Host', host,
    'Content-Type', 'application/json; charset=UTF-8',
    'Stripe-Signature', `t=1718000000,v1=${digest},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39`,
    'X-Alipay-Signature', Buffer.from(digest, 'hex').toString('base64'),
    'x-PAYMENT-event', 'charge.succeeded',
    'X-Event-Tag', 'first', 'X-Event-Tag', 'second',
    ...(requestId === undefined ? [] : ['X-Request-Id', requestId]),
  ];
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Polls `condition` every 20 ms until true; fails after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A gateway instance in a child process. */
export interface ChildInstance {
  readonly url: string;
  /** Parsed JSON log lines the child printed so far. */
  readonly logs: Record<string, unknown>[];
  /** SIGKILL: a crash, nothing cleaned up. */
  kill(): Promise<void>;
}

/** Spawns test/spool/instance-main.ts; resolves once it listens. Killed in t.after(). */
export function spawnInstance(t: TestContext, config: ConfigInput, instanceId: string, tuning: Partial<SpoolTuning> = {}): Promise<ChildInstance> {
  const main = new URL('./instance-main.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, [main, JSON.stringify({ config, instanceId, tuning })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(() => {
    child.kill('SIGKILL');
    return exited;
  });
  const logs: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) => reject(new Error(`instance ${instanceId} exited with ${code} before listening`)));
    child.stdout!.on('data', (data: Buffer) => {
      buffered += data.toString();
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith('port ')) {
          resolve({
            url: `http://127.0.0.1:${line.slice(5)}`, logs,
            kill: async () => {
              child.kill('SIGKILL');
              await exited;
            },
          });
        } else if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
  });
}

/** A fleet view of one cluster: healthy, idle, available since before the start, unless overridden. */
export function clusterView(overrides: Partial<ClusterView> = {}): ClusterView {
  return { healthy: true, drained: false, latencyMs: 5, p99Ms: 10, errorRate: 0, inflight: 0, availableSinceMs: 0, ...overrides };
}

/** A snapshot with these cluster views and dial overrides (percent per route, not expiring). */
export function snapshotOf(clusters: Record<string, Partial<ClusterView>>, dials: Record<string, number> = {}): FleetSnapshot {
  return {
    builtAtMs: Date.now(), liveInstances: 1, storeUp: true,
    clusters: new Map(Object.entries(clusters).map(([name, v]) => [name, clusterView(v)])),
    dialOverrides: new Map(Object.entries(dials).map(([route, percent]) => [route, { percent, expiresAtMs: Date.now() + 3_600_000 }])),
  };
}

/** Headers the gateway sets itself (SPEC §2.5) or that frame the message on each hop. */
const perHop = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'connection', 'transfer-encoding',
  'host', 'content-length', 'x-switchyard-spooled-at']);

/**
 * Name/value pairs as sent, minus the gateway's own and the per-hop framing headers: what must reach the
 * pinned cluster unchanged, names in their case and order. (undici writes Host first and Content-Length
 * last, both in lower case, whatever it is given: their values pass unchanged, see byte-exact.test.ts.)
 */
export function endToEndHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (!perHop.has(lower) && !lower.startsWith('x-geo-')) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** A plain client that looks into the spool's keys; closed in t.after() without lingering on a dead server. */
export function spoolObserver(t: TestContext, port: number): Redis {
  const client = new Redis({ port, host: '127.0.0.1', disconnectTimeout: 50 });
  client.on('error', () => {});
  t.after(() => client.disconnect());
  return client;
}
