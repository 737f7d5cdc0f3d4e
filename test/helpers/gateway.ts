/**
 * The real traffic path (gateway + traffic listener) on a free port, in this process, with a fleet
 * snapshot and breakers the test controls. For the whole process (state loops, admin API) see
 * switchyard.ts.
 */
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { buildRuntimeConfig } from '../../src/config/runtime.ts';
import { Gateway, type RequestObserver, type RequestRecord } from '../../src/proxy/gateway.ts';
import { silentSignals, type UpstreamSignals } from '../../src/proxy/signals.ts';
import type { RefusalReason } from '../../src/proxy/refusals.ts';
import { buildTrafficApp } from '../../src/proxy/traffic-app.ts';
import { closedBreakers, emptySnapshot, type BreakerView, type FleetSnapshot } from '../../src/state/snapshot.ts';
import { noGeo, type GeoLookup } from '../../src/geo/types.ts';

export interface TestGateway {
  readonly url: string;
  readonly port: number;
  readonly gateway: Gateway;
  readonly records: RequestRecord[];
  /** What the traffic listener refused before routing, in order. */
  readonly refusals: RefusalReason[];
  snapshot: FleetSnapshot;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  geo?: GeoLookup;
  breakers?: BreakerView;
  signals?: UpstreamSignals;
  snapshot?: FleetSnapshot;
}

/** Starts the gateway with a config (listen port forced to 0), closed in t.after(). */
export async function startGateway(t: TestContext, input: ConfigInput, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const config = configSchema.parse({ ...input, listen: { host: '127.0.0.1', port: 0 } });
  const runtime = buildRuntimeConfig(config, 'test.yaml');
  const records: RequestRecord[] = [];
  const observer: RequestObserver = { requestEnded: (record) => records.push(record) };
  const state = { snapshot: options.snapshot ?? emptySnapshot };
  const gateway = new Gateway(runtime, {
    geo: options.geo ?? noGeo,
    snapshot: () => state.snapshot,
    breakers: options.breakers ?? closedBreakers,
    signals: options.signals ?? silentSignals,
    observer,
  });
  const refusals: RefusalReason[] = [];
  const app = buildTrafficApp(config.limits, gateway, { refused: (reason) => refusals.push(reason) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const handle: TestGateway = {
    url: `http://127.0.0.1:${port}`, port, gateway, records, refusals,
    get snapshot() { return state.snapshot; },
    set snapshot(s: FleetSnapshot) { state.snapshot = s; },
    close: async () => {
      await app.close();
      await gateway.close();
    },
  };
  t.after(() => handle.close());
  return handle;
}
