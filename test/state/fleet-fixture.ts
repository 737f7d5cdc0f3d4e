/**
 * Shared pieces of the fleet state tests: configs with short intervals, fleet instances stopped in
 * t.after(), real upstream health endpoints that count probes per probing instance, a logger that
 * records, and bounded polling.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { configSchema, type Config } from '../../src/config/schema.ts';
import { FleetState, type FleetStateOptions } from '../../src/state/fleet.ts';
import type { StateLogger } from '../../src/state/logger.ts';
import { closedBreakers } from '../../src/state/snapshot.ts';
import { proberHeader } from '../../src/health/probe.ts';

export interface FleetConfigOptions {
  readonly redis?: string;
  /** Cluster name → endpoint URLs. */
  readonly clusters: Readonly<Record<string, readonly string[]>>;
  readonly publishIntervalMs?: number;
  readonly staleAfterMs?: number;
  readonly keyPrefix?: string;
  readonly healthCheck?: Record<string, unknown>;
}

/** A valid config with short intervals: publish every 100 ms, stale after 600 ms, probes every 100 ms. */
export function fleetConfig(options: FleetConfigOptions): Config {
  const clusters = Object.fromEntries(Object.entries(options.clusters).map(([name, endpoints]) => [name, {
    region: 'here', endpoints,
    healthCheck: { intervalMs: 100, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 1, ...options.healthCheck },
  }]));
  return configSchema.parse({
    state: {
      redis: options.redis ?? '', keyPrefix: options.keyPrefix ?? 'sy:',
      publishIntervalMs: options.publishIntervalMs ?? 100, staleAfterMs: options.staleAfterMs ?? 600,
    },
    regions: { here: { location: [31.23, 121.47] } },
    clusters,
    routes: [{ name: 'storefront', match: { pathPrefix: '/' } }, { name: 'checkout', match: { pathPrefix: '/checkout' } }],
  });
}

/** Starts a FleetState; stopped (with cleanup) in t.after() unless the test stopped it. */
export async function startFleet(t: TestContext, config: Config, instanceId: string,
  extra: Partial<FleetStateOptions> = {}): Promise<FleetState> {
  const fleet = new FleetState({ config, instanceId, breakers: closedBreakers, ...extra });
  t.after(() => fleet.stop());
  await fleet.start();
  return fleet;
}

/** A health endpoint that answers per probing instance and counts who probed it. */
export interface HealthUpstream {
  readonly url: string;
  /** Status answered to each prober (default 200); 0 never answers (a hung endpoint). */
  status: (prober: string) => number;
  /** Probes received since the last reset, by prober id. */
  readonly probes: Map<string, number>;
  total(): number;
  reset(): void;
}

/** Starts a health upstream on a free port, closed in t.after(). */
export async function startHealthUpstream(t: TestContext): Promise<HealthUpstream> {
  const probes = new Map<string, number>();
  const upstream: HealthUpstream = {
    url: '', status: () => 200, probes,
    total: () => [...probes.values()].reduce((a, b) => a + b, 0),
    reset: () => probes.clear(),
  };
  const server: Server = createServer((req, res) => {
    const prober = String(req.headers[proberHeader] ?? '');
    probes.set(prober, (probes.get(prober) ?? 0) + 1);
    const status = upstream.status(prober);
    if (status !== 0) res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  (upstream as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return upstream;
}

/** A logger that keeps every line, for asserting what was logged. */
export interface RecordingLogger extends StateLogger {
  readonly lines: { level: string; obj: Record<string, unknown>; msg: string }[];
}

/** Creates a recording logger. */
export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const record = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, info: record('info'), warn: record('warn'), error: record('error') };
}

/** Polls `condition` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(20);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
