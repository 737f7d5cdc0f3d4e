/**
 * The real gateway guarded by the real breakers, outlier ejection and retry budget: configs of two
 * clusters where one is clearly preferred, a gateway started with an UpstreamGuard, and bounded waits.
 */
import { Agent } from 'node:http';
import type { TestContext } from 'node:test';
import { configSchema, type ConfigInput } from '../../src/config/schema.ts';
import { buildRuntimeConfig, type RuntimeConfig } from '../../src/config/runtime.ts';
import { UpstreamGuard, type UpstreamGuardOptions } from '../../src/breakers/upstream-guard.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { send, type Answer } from '../helpers/client.ts';

type ClusterInput = Omit<ConfigInput['clusters'][string], 'region' | 'role'>;

/**
 * Two regions ~1200 km apart: clients without geo cost 0 ms to `near` (the default region) and ~12 ms
 * to `far`, more than `tieMs`, so `near` takes all traffic while it is eligible and `far` is the fallback.
 */
export const regions = {
  near: { location: [31.23, 121.47] as [number, number] },
  far: { location: [23.13, 113.26] as [number, number] },
};

/** A config with cluster `a` (near, preferred) and `b` (far, fallback) on one catch-all route. */
export function twoClusters(a: ClusterInput, b: ClusterInput, route: Partial<ConfigInput['routes'][number]> = {}): ConfigInput {
  return {
    geo: { defaultRegion: 'near' },
    regions,
    clusters: { a: { ...a, region: 'near', role: 'primary' }, b: { ...b, region: 'far', role: 'trade' } },
    routes: [{ name: 'shop', match: { pathPrefix: '/' }, clusters: ['a', 'b'], ...route }],
  };
}

/** The runtime config the gateway will build from `input` (same names, indices and endpoints). */
export function runtimeOf(input: ConfigInput): RuntimeConfig {
  return buildRuntimeConfig(configSchema.parse(input), 'test.yaml');
}

export interface GuardedGateway extends TestGateway {
  readonly guard: UpstreamGuard;
  /** Sends a GET (or `method`) over a keep-alive connection. */
  request(path?: string, method?: string): Promise<Answer>;
}

/** Starts the real gateway with a real UpstreamGuard; everything closed in t.after(). */
export async function startGuardedGateway(t: TestContext, input: ConfigInput, options: UpstreamGuardOptions = {}): Promise<GuardedGateway> {
  const guard = new UpstreamGuard(runtimeOf(input), options);
  t.after(() => guard.close());
  const gw = await startGateway(t, input, { breakers: guard.breakers, signals: guard });
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  t.after(() => agent.destroy());
  return Object.assign(gw, {
    guard,
    request: (path = '/', method = 'GET') => send(`${gw.url}${path}`, { method, agent }),
  });
}

/** Waits until `condition` holds, polling every few ms; fails after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets opossum settle the outcomes fed to it (they resolve in microtasks). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The cluster that answered (`none` for the gateway's own errors). */
export function clusterOf(answer: Answer): string {
  return String(answer.headers['x-switchyard-cluster']);
}
