/**
 * The parts a chaos run plays with, all on 127.0.0.1: a redis-server, recording cluster endpoints that
 * can be killed and revived on their port, and gateway processes (`src/main.ts start`) sharing state
 * through Redis. Every child process is tracked so that nothing outlives the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { join } from 'node:path';
import { answersPing, freePort } from '../../src/demo/local-ports.ts';

export { freePort };

export const repoRoot = new URL('../../', import.meta.url).pathname;
const readyTimeoutMs = 20_000;
const pollMs = 100;

/** Every child started by this module; `killAll` is the last word. */
const children = new Set<ChildProcess>();

/** SIGKILLs every child still running (redis, gateways). Synchronous, for `process.on('exit')`. */
export function killAll(): void {
  for (const child of children) if (isRunning(child)) child.kill('SIGKILL');
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** redis-server without persistence on `port`; resolves once it answers PING. */
export async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  children.add(child);
  await until(`redis on ${port}`, () => answersPing(port));
  return child;
}

/** Sends `signal` and waits (bounded) for the exit; SIGKILL after `timeoutMs`. Resolves with the exit code. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<number | null> {
  if (!isRunning(child)) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

/** One endpoint of a cluster: answers 200 with its cluster's name and counts webhook paths it receives. */
export class RecordingEndpoint {
  readonly cluster: string;
  readonly port: number;
  webhooks = 0;
  requests = 0;
  private server: Server | undefined;

  constructor(cluster: string, port: number) {
    this.cluster = cluster;
    this.port = port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get up(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    const server = createHttpServer((req, res) => {
      if (req.url === '/healthz') return void res.end('ok');
      this.requests++;
      if (req.url?.startsWith('/webhooks/')) this.webhooks++;
      req.resume();
      req.on('end', () => res.end(this.cluster));
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  /** Stops answering at once: open connections are cut, new ones refused. */
  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A gateway child process and where it listens. */
export interface GatewayProcess {
  readonly id: string;
  readonly trafficPort: number;
  readonly adminPort: number;
  readonly configFile: string;
  readonly logFile: string;
  readonly child: ChildProcess;
}

/** Starts `node src/main.ts start -c configFile` with its log in `dir`; resolves once /readyz answers 200. */
export async function startGateway(id: string, configFile: string, dir: string, ports: { traffic: number; admin: number }): Promise<GatewayProcess> {
  const logFile = join(dir, `${id}.log`);
  const log = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHYARD_INSTANCE_ID: id };
  delete env.SWITCHYARD_CONFIG;
  const child = spawn(join(repoRoot, 'node_modules/.bin/node'), ['src/main.ts', 'start', '-c', configFile], {
    cwd: repoRoot, env, stdio: ['ignore', log, log],
  });
  children.add(child);
  await until(`${id} ready`, async () => {
    if (!isRunning(child)) throw new Error(`${id} exited with ${child.exitCode}; see ${logFile}`);
    return (await fetch(`http://127.0.0.1:${ports.admin}/readyz`).then((r) => r.status, () => 0)) === 200;
  });
  return { id, trafficPort: ports.traffic, adminPort: ports.admin, configFile, logFile, child };
}

/** Resident set size of a process in bytes, from /proc (Linux); undefined once it is gone. */
export async function rssBytes(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match === null ? undefined : Number(match[1]) * 1024;
}

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

