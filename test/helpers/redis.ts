/**
 * A real `redis-server` per test on a free port, without persistence, so tests can kill it (SIGKILL),
 * freeze it (SIGSTOP), and bring it back on the same port. Every process is killed in t.after().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import type { TestContext } from 'node:test';

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

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on port ${port}`);
    if (await answersPing(port)) return child;
    await sleep(pollMs);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port} within ${startTimeoutMs} ms`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGCONT');
    child.kill(signal);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
