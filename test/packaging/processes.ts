/**
 * Process helpers for the packaging tests: free ports, bounded polling of HTTP endpoints, child
 * processes that are always killed, and the production build into a temporary directory.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { TestContext } from 'node:test';
import { freePort } from '../../src/demo/local-ports.ts';

/** The repository root (this file lives in test/packaging/). */
export const repoRoot = new URL('../../', import.meta.url).pathname;

const pollMs = 50;


/** Polls `url` until it answers `status`; throws with the last answer after `timeoutMs`. */
export async function waitForStatus(url: string, status: number, timeoutMs: number, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === status) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(pollMs);
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}

/** A child process whose output is kept for failure messages. */
export interface Child {
  readonly process: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ended, or undefined after `timeoutMs`. */
  exited(timeoutMs: number): Promise<number | string | undefined>;
}

/** Spawns a process that t.after() kills with SIGKILL if it is still running. */
export function spawnChild(t: TestContext, command: string, args: string[], options: SpawnOptions): Child {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const ended = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    process: child,
    output: () => output,
    exited: (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), timeoutMs); });
      return Promise.race([ended, timedOut]).finally(() => clearTimeout(timer));
    },
  };
}

/** Runs `npm run build`'s compiler into `outDir` (the repository's dist/ stays untouched). */
export async function buildDist(t: TestContext, outDir: string): Promise<void> {
  const tsc = spawnChild(t, process.execPath, [`${repoRoot}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: repoRoot });
  const buildTimeoutMs = 120_000;
  const code = await tsc.exited(buildTimeoutMs);
  if (code !== 0) throw new Error(`the production build failed (${code}):\n${tsc.output()}`);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { freePort };
