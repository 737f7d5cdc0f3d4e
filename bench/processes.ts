/**
 * Child processes of a bench run: CPU placement with `taskset`, spawning, readiness, and the guarantee
 * that nothing outlives the run (normal end, SIGINT/SIGTERM, or an error).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'node:http';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where the load side (load generator, upstream) and the proxy under test run. */
export interface Placement {
  readonly loadCpu: number | null;
  readonly proxyCpu: number | null;
  readonly description: string;
}

const STOP_GRACE_MS = 3000;
const READY_POLL_MS = 100;
const PROBE_TIMEOUT_MS = 1000;
/** A log this short (a config error report, say) is shown whole when a child fails. */
const SHORT_LOG_LINES = 4;

/** Whether an executable is on PATH (or at an absolute path); returns its path. */
export function findExecutable(name: string): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** CPU 0 for the load side, CPU 1 for the proxy, when `taskset` exists and two CPUs are ours. */
export function detectPlacement(): Placement {
  if (findExecutable('taskset') === null) {
    return { loadCpu: null, proxyCpu: null, description: 'unpinned (taskset not installed)' };
  }
  const cpus = availableParallelism();
  if (cpus < 2) return { loadCpu: null, proxyCpu: null, description: `unpinned (${cpus} CPU available)` };
  return {
    loadCpu: 0, proxyCpu: 1,
    description: 'load generator + upstream on CPU 0, proxy under test on CPU 1 (taskset)',
  };
}

/** Moves this process (every thread, and children spawned later) onto the load CPU. */
export function pinSelf(placement: Placement): void {
  if (placement.loadCpu === null) return;
  execFileSync('taskset', ['-a', '-p', '-c', String(placement.loadCpu), String(process.pid)], { stdio: 'ignore' });
}

/** How to start one child. `logFile` receives stderr (and stdout unless `stdoutFile` says otherwise). */
export interface ChildOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cpu: number | null;
  readonly logFile: string;
  readonly stdoutFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Node children get an IPC channel so they can exit when the bench dies (see exitWithParent). */
  readonly ipc?: boolean;
  /** How long `stopChild` waits after SIGTERM before SIGKILL (default 3 s). */
  readonly stopGraceMs?: number;
}

/** A started child: its own process group, so stopping it also stops what it forked (nginx workers). */
export interface RunningChild {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly stopGraceMs: number;
  /** Set once the process has exited. */
  exit: { code: number | null; signal: string | null } | null;
  readonly exited: Promise<void>;
}

const running = new Set<RunningChild & { process: ChildProcess }>();

/** Spawns a child in its own process group, pinned to `cpu` when given; output goes to files. */
export function spawnChild(options: ChildOptions): RunningChild {
  const [command, args] = options.cpu === null
    ? [options.command, options.args]
    : ['taskset', ['-c', String(options.cpu), options.command, ...options.args]];
  const logFd = openSync(options.logFile, 'a');
  const stdoutFd = options.stdoutFile === undefined ? logFd : openSync(options.stdoutFile, 'a');
  const stdio = options.ipc ? ['ignore', stdoutFd, logFd, 'ipc'] : ['ignore', stdoutFd, logFd];
  const child = spawn(command, args, { stdio: stdio as never, env: options.env ?? process.env, detached: true });
  closeSync(logFd);
  if (stdoutFd !== logFd) closeSync(stdoutFd);
  if (child.pid === undefined) throw new Error(`${options.name}: could not spawn ${command}`);
  const handle = {
    name: options.name, pid: child.pid, logFile: options.logFile, process: child,
    stopGraceMs: options.stopGraceMs ?? STOP_GRACE_MS,
    exit: null as RunningChild['exit'],
    exited: new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        handle.exit = { code, signal };
        running.delete(handle);
        resolve();
      });
    }),
  };
  child.on('error', () => { /* reported through `exit` and the log file */ });
  running.add(handle);
  return handle;
}

/** Stops a child's process group: SIGTERM, then SIGKILL after a grace period. */
export async function stopChild(child: RunningChild): Promise<void> {
  if (child.exit !== null) return;
  signalGroup(child.pid, 'SIGTERM');
  const killed = await Promise.race([child.exited.then(() => true), sleep(child.stopGraceMs).then(() => false)]);
  if (!killed) {
    signalGroup(child.pid, 'SIGKILL');
    await child.exited;
  }
}

/** Stops every child still running. */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...running].map((child) => stopChild(child)));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Makes the bench leave no process behind: on SIGINT/SIGTERM children are stopped and the run exits 130;
 * on any exit (even after an uncaught error) the remaining process groups are killed synchronously and
 * `cleanUp` runs (it must be synchronous).
 */
export function installExitHandlers(cleanUp: () => void): void {
  const interrupt = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${signal}, stopping children\n`);
    void stopAllChildren().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  process.on('exit', () => {
    for (const child of running) signalGroup(child.pid, 'SIGKILL');
    cleanUp();
  });
}

/** In a child started with `ipc`: exit as soon as the bench process goes away, however it died. */
export function exitWithParent(): void {
  if (process.connected) process.on('disconnect', () => process.exit(0));
  // A normal exit on SIGTERM, so `--cpu-prof` gets to write its profile.
  process.once('SIGTERM', () => process.exit(0));
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The status of one GET (no keep-alive), or null when nothing answered. */
export function probeStatus(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** Waits until `url` answers 200; fails early with the log's last lines if the child exits. */
export async function waitReady(child: RunningChild, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exit !== null) {
      throw new Error(`exited (code ${child.exit.code ?? child.exit.signal}): ${logSummary(child.logFile)}`);
    }
    if ((await probeStatus(url)) === 200) return;
    await sleep(READY_POLL_MS);
  }
  throw new Error(`not ready after ${timeoutMs / 1000} s at ${url}: ${logSummary(child.logFile)}`);
}

/** What a child's log says went wrong, on one line: a short log whole, else its first error line or last lines. */
export function logSummary(file: string): string {
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);
  } catch {
    return '(no output)';
  }
  if (lines.length <= SHORT_LOG_LINES) return lines.join(' | ') || '(no output)';
  const errorLine = lines.find((line) => /\b\w*Error\b|\berror:|\[emerg\]/i.test(line));
  return errorLine ?? (lines.slice(-2).join(' | ') || '(no output)');
}

/** The process-group ids of every child still running (for CPU accounting). */
export function runningChildPids(): number[] {
  return [...running].map((child) => child.pid);
}

/** Runs a bench command's `main`: exit 0 when it resolves; its message on stderr and exit 1 when it throws. */
export async function runCommand(name: string, main: () => Promise<void>): Promise<never> {
  try {
    await main();
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${name}: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
