/**
 * `npm run fleet [-- --instances 3] [-c FILE]`: a whole fleet on one machine. A private redis-server,
 * the demo clusters and N gateway processes sharing state through Redis, so drains, dials and cluster
 * failures can be watched spreading across instances (SPEC §6). Commands typed on stdin kill and revive
 * demo clusters and Redis; Ctrl-C drains the gateways, then stops Redis and the clusters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { loadConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { formatConfigIssue } from '../errors.ts';
import { startDemoClusters, stopDemoClusters, type DemoEndpoint } from './clusters.ts';
import { answersPing, freePort } from './local-ports.ts';

/** One gateway process of the fleet. */
interface Instance {
  readonly id: string;
  readonly trafficPort: number;
  readonly adminPort: number;
  readonly log: string;
  readonly child: ChildProcess;
}

const readyTimeoutMs = 20_000;
const pollMs = 100;
const exitMarginMs = 2000;
// src/demo/fleet.ts runs src/main.ts; the built dist/demo/fleet.js runs dist/main.js.
const mainPath = fileURLToPath(new URL(`../main${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { instances: { type: 'string', default: '3' }, config: { type: 'string', short: 'c' } } });
  const count = Number(values.instances);
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new Error('--instances must be 1 to 9');
  const loaded = await loadConfigFile(values.config ?? 'config/switchyard.yaml');
  if (!loaded.ok) {
    for (const issue of loaded.issues) process.stderr.write(`${formatConfigIssue(issue)}\n`);
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-fleet-'));
  const redisPort = await freePort();
  let redis = await startRedis(redisPort, dir);
  let clusters = await startDemoClusters(loaded.config);
  const instances: Instance[] = [];
  // Whatever way this process ends, nothing it started outlives it.
  process.on('exit', () => {
    for (const child of [...instances.map((i) => i.child), redis]) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  for (let n = 1; n <= count; n++) instances.push(await startInstance(`fleet-${n}`, loaded.file, dir, redisPort));
  await Promise.all(instances.map((i) => waitReady(i)));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const { readinessGraceMs, drainTimeoutMs } = loaded.config.shutdown;
    process.stdout.write('stopping: draining the gateways...\n');
    await Promise.all(instances.map((i) => stopChild(i.child, readinessGraceMs + drainTimeoutMs + exitMarginMs)));
    await stopChild(redis, exitMarginMs);
    await stopDemoClusters(clusters);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const commands: Record<string, (arg: string) => Promise<string>> = {
    async kill(name) {
      const [down, up] = partition(clusters, (e) => e.cluster === name);
      if (down.length === 0) return `no running demo cluster "${name}"`;
      await stopDemoClusters(down);
      clusters = up;
      return `${name} stopped: its endpoints refuse connections`;
    },
    async revive(name) {
      const cluster = loaded.config.clusters[name];
      if (cluster === undefined || clusters.some((e) => e.cluster === name)) return `"${name}" is unknown or already running`;
      clusters = [...clusters, ...await startDemoClusters({ ...loaded.config, clusters: { [name]: cluster } })];
      return `${name} is back`;
    },
    async 'redis-stop'() {
      await stopChild(redis, exitMarginMs);
      return 'redis stopped: instances keep routing on their last view (switchyard_state_store_up 0)';
    },
    async 'redis-start'() {
      redis = await startRedis(redisPort, dir);
      return 'redis started (empty: instances publish their views again)';
    },
  };
  process.stdout.write(banner(loaded.config, instances, redisPort, redis.pid, dir));
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command = '', arg = ''] = line.trim().split(/\s+/);
    const run = commands[command];
    if (command === 'quit') void stop();
    else if (run === undefined) process.stdout.write(`commands: ${Object.keys(commands).join(', ')} CLUSTER, quit\n`);
    else void run(arg).then((message) => process.stdout.write(`${message}\n`));
  });
  return -1;
}

/** Writes the instance's config (own ports, same everything else) and starts `switchyard start` on it. */
async function startInstance(id: string, configFile: string, dir: string, redisPort: number): Promise<Instance> {
  const [trafficPort, adminPort] = [await freePort(), await freePort()];
  const doc = parseDocument(await readFile(configFile, 'utf8'));
  doc.setIn(['listen'], doc.createNode({ host: '127.0.0.1', port: trafficPort }));
  doc.setIn(['admin', 'host'], '127.0.0.1');
  doc.setIn(['admin', 'port'], adminPort);
  const file = join(dir, `${id}.yaml`);
  writeFileSync(file, doc.toString());
  const log = join(dir, `${id}.log`);
  const out = openSync(log, 'a');
  // Own process group: Ctrl-C reaches only this script, which stops the gateways before Redis.
  const child = spawn(process.execPath, [mainPath, 'start', '-c', file], {
    detached: true, stdio: ['ignore', out, out],
    env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${redisPort}`, SWITCHYARD_INSTANCE_ID: id },
  });
  return { id, trafficPort, adminPort, log, child };
}

async function waitReady(instance: Instance): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (instance.child.exitCode !== null) break;
    const ok = await fetch(`http://127.0.0.1:${instance.adminPort}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(pollMs);
  }
  throw new Error(`${instance.id} did not become ready within ${readyTimeoutMs} ms; see ${instance.log}`);
}

async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    detached: true, stdio: 'ignore',
  });
  const failed = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`cannot start redis-server: ${err.message}`))));
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (await Promise.race([answersPing(port), failed])) return child;
    await sleep(pollMs);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on port ${port}`);
}

function banner(config: Config, instances: readonly Instance[], redisPort: number, redisPid: number | undefined, dir: string): string {
  const [a, b = a] = instances;
  const auth = `-H 'Authorization: Bearer ${config.admin.token || 'TOKEN'}'`;
  const json = `-H 'content-type: application/json'`;
  // A trade cluster: draining or killing it moves traffic without touching the pinned webhooks.
  const cluster = Object.entries(config.clusters).find(([, c]) => c.role === 'trade')?.[0] ?? 'CLUSTER';
  const route = config.routes.find((r) => r.standby !== undefined)?.name ?? 'ROUTE';
  return [
    '', `Switchyard fleet: ${instances.length} instances, redis on 127.0.0.1:${redisPort} (pid ${redisPid}), files in ${dir}`,
    ...instances.map((i) => `  ${i.id}  traffic http://127.0.0.1:${i.trafficPort}  admin http://127.0.0.1:${i.adminPort}  pid ${i.child.pid}  log ${i.log}`),
    '', 'Try:',
    `  curl -s -H 'X-Forwarded-For: 202.96.128.86' http://127.0.0.1:${a.trafficPort}/products/42`,
    `  # drain ${cluster} on ${a.id}, then see it on ${b.id}`,
    `  curl -s -X PUT ${auth} ${json} -d '{"drained": true}' http://127.0.0.1:${a.adminPort}/api/clusters/${cluster}/drain`,
    `  curl -s ${auth} http://127.0.0.1:${b.adminPort}/api/status`,
    `  # send 30% of ${route} to standby for 10 minutes, fleet-wide`,
    `  curl -s -X PUT ${auth} ${json} -d '{"percent": 30, "ttlSeconds": 600}' http://127.0.0.1:${b.adminPort}/api/routes/${route}/dial`,
    `  curl -s ${auth} 'http://127.0.0.1:${b.adminPort}/api/explain?ip=202.96.128.86&path=/'`,
    '', `Type here: kill ${cluster} | revive ${cluster} | redis-stop | redis-start | quit.  Ctrl-C stops everything.`,
    'Fleet ready.', '',
  ].join('\n');
}

function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}



function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then((code) => {
  if (code !== -1) process.exit(code);
}, (err: unknown) => {
  process.stderr.write(`fleet: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
