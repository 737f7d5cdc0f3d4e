/**
 * A real `redis-server` per test on a free port, without persistence, so tests can kill it (SIGKILL),
 * freeze it (SIGSTOP), and bring it back on the same port; also a small Redis Cluster and a Sentinel.
 * Every process is killed in t.after().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { answersPing, freePort } from '../../src/demo/local-ports.ts';

export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  /** SIGKILL: the server dies without closing connections cleanly. */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets but stops answering. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts a fresh (empty) server on the same port; resolves once it answers PING. */
  restart(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

const startTimeoutMs = 5000;
/**
 * A cluster's nodes agree through gossip, a Sentinel finds its master by polling: on a loaded machine
 * (the suite runs two files at once, one of them perhaps under valgrind) that took over 5 s once.
 */
const convergeTimeoutMs = 20_000;
const pollMs = 25;

/** Starts redis-server on a free 127.0.0.1 port; resolves once it answers PING. */
export async function startRedis(t: TestContext): Promise<TestRedis> {
  const port = await freePort();
  let child = await spawnRedis(port);
  t.after(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      await killAndWait(child, 'SIGKILL');
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async restart() {
      await killAndWait(child, 'SIGKILL');
      child = await spawnRedis(port);
    },
    async stop() {
      await killAndWait(child, 'SIGTERM');
    },
  };
}

/** A plain client for writing test data, disconnected in t.after(); errors after the server died are expected. */
export function redisClient(t: TestContext, redis: TestRedis): Redis {
  const client = new Redis({ port: redis.port, host: '127.0.0.1' });
  client.on('error', () => {});
  t.after(() => client.disconnect());
  return client;
}

/** A Redis deployment reached through one URL (cluster or sentinel). */
export interface TestRedisDeployment {
  readonly url: string;
}

const clusterSlots = 16384;

/** Starts a Redis Cluster of `nodes` masters sharing the slots; resolves once the cluster state is ok. */
export async function startRedisCluster(t: TestContext, nodes = 3): Promise<TestRedisDeployment> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-cluster-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ports: number[] = [];
  const busPorts: number[] = [];
  for (let i = 0; i < nodes; i++) {
    const port = await freePort();
    // the bus port too: Redis's default (port + 10000) is not checked by anyone
    const busPort = await freePort();
    const child = await spawnRedis(port, ['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', join(dir, `nodes-${port}.conf`)]);
    t.after(() => void child.kill('SIGKILL'));
    ports.push(port);
    busPorts.push(busPort);
  }
  const admins = ports.map((port) => new Redis({ port, host: '127.0.0.1', lazyConnect: true }));
  try {
    for (const [i, admin] of admins.entries()) {
      const first = Math.floor((clusterSlots * i) / nodes);
      const last = Math.floor((clusterSlots * (i + 1)) / nodes) - 1;
      await admin.call('CLUSTER', 'ADDSLOTSRANGE', first, last);
      if (i > 0) await admins[0].call('CLUSTER', 'MEET', '127.0.0.1', ports[i], busPorts[i]);
    }
    await until('cluster state ok', async () => {
      const infos = await Promise.all(admins.map((a) => a.call('CLUSTER', 'INFO') as Promise<string>));
      return infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${nodes}`));
    });
  } finally {
    for (const admin of admins) admin.disconnect();
  }
  return { url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}` };
}

/** Starts a Sentinel watching `master` under the name `mymaster`; resolves once it knows the master. */
export async function startSentinel(t: TestContext, master: TestRedis): Promise<TestRedisDeployment> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-sentinel-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const file = join(dir, 'sentinel.conf');
  await writeFile(file, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`, ''].join('\n'));
  const child = await spawnRedis(port, [], [file, '--sentinel']);
  t.after(() => void child.kill('SIGKILL'));
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
  try {
    await until('sentinel knows the master', async () => {
      const address = await admin.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster') as string[] | null;
      return address !== null && Number(address[1]) === master.port;
    });
  } finally {
    admin.disconnect();
  }
  return { url: `redis+sentinel://127.0.0.1:${port}/mymaster` };
}

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + convergeTimeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(pollMs * 4);
  }
}

async function spawnRedis(port: number, extra: readonly string[] = [], leading: readonly string[] = []): Promise<ChildProcess> {
  const args = [...leading, '--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', ...extra];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on port ${port}`);
    if (await answersPing(port)) return child;
    await sleep(pollMs);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port} within ${startTimeoutMs} ms`);
}


function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGCONT');
    child.kill(signal);
  });
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
