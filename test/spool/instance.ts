/**
 * One gateway instance as a process would assemble it for pinned webhooks: the real Gateway on a real
 * traffic listener, the PinnedWebhooks hook (and spool, with Redis), a fleet snapshot and breakers the
 * test flips, a logger that records. Used in-process and by instance-main.ts as a child process.
 */
import type { AddressInfo } from 'node:net';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { buildRuntimeConfig } from '../../src/config/runtime.ts';
import { noGeo, type GeoLookup } from '../../src/geo/types.ts';
import { Gateway, type RequestRecord } from '../../src/proxy/gateway.ts';
import { silentSignals } from '../../src/proxy/signals.ts';
import { buildTrafficApp } from '../../src/proxy/traffic-app.ts';
import type { StateLogger } from '../../src/state/logger.ts';
import { emptySnapshot, type BreakerState, type FleetSnapshot } from '../../src/state/snapshot.ts';
import { PinnedWebhooks } from '../../src/spool/pinned-webhooks.ts';
import type { SpoolTuning } from '../../src/spool/webhook-spool.ts';

/** A log line as recorded: the context object, its level and message. */
export type LogLine = Record<string, unknown> & { level: string; msg: string };

export interface InstanceOptions {
  readonly instanceId?: string;
  readonly tuning?: Partial<SpoolTuning>;
  readonly geo?: GeoLookup;
  /** Also write log lines here (child processes print them). */
  readonly echo?: (line: LogLine) => void;
}

export interface Instance {
  readonly url: string;
  readonly gateway: Gateway;
  readonly webhooks: PinnedWebhooks;
  readonly records: RequestRecord[];
  readonly logs: LogLine[];
  /** Route names passed to onPinnedUnavailable / onSpooled, in call order. */
  readonly refused: string[];
  readonly spooled: string[];
  snapshot: FleetSnapshot;
  /** Cluster name → breaker state on this instance (absent: closed). */
  readonly breakerStates: Map<string, BreakerState>;
  close(): Promise<void>;
}

/** Fast test timings: poll 50 ms, lease 1 s, backoff 50-400 ms. */
export const fastTuning: Partial<SpoolTuning> = {
  pollIntervalMs: 50, leaseMs: 1000, backoffMinMs: 50, backoffMaxMs: 400, stopWaitMs: 1000, commandTimeoutMs: 1000,
};

/** Starts an instance on 127.0.0.1 and a free port. */
export async function startInstance(input: ConfigInput, options: InstanceOptions = {}): Promise<Instance> {
  const config = configSchema.parse({ ...input, listen: { host: '127.0.0.1', port: 0 } });
  const runtime = buildRuntimeConfig(config, 'test.yaml');
  const logs: LogLine[] = [];
  const record = (level: string) => (obj: object, msg: string) => {
    const line = { ...obj, level, msg } as LogLine;
    logs.push(line);
    options.echo?.(line);
  };
  const logger: StateLogger = { info: record('info'), warn: record('warn'), error: record('error') };
  const state = { snapshot: emptySnapshot };
  const breakerStates = new Map<string, BreakerState>();
  const breakers = { state: (cluster: string) => breakerStates.get(cluster) ?? 'closed' as const };
  const refused: string[] = [];
  const spooled: string[] = [];
  const records: RequestRecord[] = [];
  let gateway: Gateway | undefined;
  const webhooks = new PinnedWebhooks({
    runtime: () => gateway?.current() ?? runtime, instanceId: options.instanceId ?? 'test-instance', logger,
    snapshot: () => state.snapshot, breakers, tuning: { ...fastTuning, ...options.tuning },
    onPinnedUnavailable: (route) => refused.push(route), onSpooled: (route) => spooled.push(route),
  });
  gateway = new Gateway(runtime, {
    geo: options.geo ?? noGeo, snapshot: () => state.snapshot, breakers, signals: silentSignals,
    observer: { requestEnded: (r) => records.push(r) }, pinnedUnavailable: webhooks.handle,
  });
  const app = buildTrafficApp(config.limits, gateway);
  await webhooks.start();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const instance: Instance = {
    url: `http://127.0.0.1:${port}`, gateway, webhooks, records, logs, refused, spooled, breakerStates,
    get snapshot() { return state.snapshot; },
    set snapshot(s: FleetSnapshot) { state.snapshot = s; },
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
      await webhooks.close();
      await gateway.close();
    },
  };
  return instance;
}
