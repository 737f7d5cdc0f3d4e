/**
 * The worker processes of `switchyard start` with `workers > 1` (node:cluster primary): forks one per
 * slot, hands each its start message when it boots, knows which are ready, restarts one that exits
 * unexpectedly after a backoff, and stops them all for shutdown. The supervisor is never on the data
 * path: workers bind the traffic port themselves (SO_REUSEPORT) and the kernel spreads connections.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../log/logger.ts';
import { WorkerChannel } from './channel.ts';
import { isSwitchyardMessage, type FromWorker, type StartMessage } from './protocol.ts';
import { defaultRestartBackoff, nextRestartDelayMs, type RestartBackoff } from './restart-backoff.ts';

/** Where a worker slot is: forked and booting, serving, waiting for its restart, or shutting down. */
export type WorkerState = 'starting' | 'ready' | 'restarting' | 'stopping';
export const workerStates: readonly WorkerState[] = ['starting', 'ready', 'restarting', 'stopping'];

export interface SupervisorOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** What a (re)started worker runs: read when it boots, so it gets the config in force then. */
  startMessage(slot: number): StartMessage;
  /** Called once per unexpected exit that will be restarted (the restart counter). */
  onRestart(): void;
  /** Called when a worker process exited, expectedly or not. */
  onExit?(pid: number | undefined): void;
  /** Called when a worker serves, with the config version it runs (a reload may have happened meanwhile). */
  onReady(worker: WorkerChannel, version: string): void;
  readonly backoff?: RestartBackoff;
}

interface Slot {
  readonly slot: number;
  state: WorkerState;
  /** Ready once and not exited since: it answers admin requests, also while it drains. */
  serving: boolean;
  worker: Worker | undefined;
  channel: WorkerChannel | undefined;
  startedAtMs: number;
  restartDelayMs: number | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  exited: Promise<number | null>;
}

/** Thrown by `start()` when a worker exits before it ever served: the config or the machine is wrong. */
export class WorkerStartError extends Error {
  readonly code = 'worker_start_failed';
}

/** Forks, watches and restarts the workers. */
export class Supervisor {
  private readonly options: SupervisorOptions;
  private readonly slots: Slot[] = [];
  private stopping = false;
  private firstStart: { resolve(): void; reject(error: Error): void } | undefined;

  constructor(options: SupervisorOptions) {
    this.options = options;
  }

  /** Forks every worker; resolves once all are ready, rejects when one exits before it was. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstStart = { resolve, reject };
      for (let slot = 1; slot <= this.options.workers; slot++) {
        const entry: Slot = { slot, state: 'starting', serving: false, worker: undefined, channel: undefined, startedAtMs: 0, restartDelayMs: undefined, restartTimer: undefined, exited: Promise.resolve(null) };
        this.slots.push(entry);
        this.fork(entry);
      }
    });
  }

  /** Channels of the workers that serve (also while they drain for shutdown), by slot. */
  servingWorkers(): WorkerChannel[] {
    return this.slots.filter((s) => s.serving && s.channel !== undefined).map((s) => s.channel!);
  }

  /** Whether every slot has a worker serving. */
  allReady(): boolean {
    return this.slots.length === this.options.workers && this.slots.every((s) => s.state === 'ready');
  }

  /** Workers per state. */
  stateCounts(): Record<WorkerState, number> {
    const counts = { starting: 0, ready: 0, restarting: 0, stopping: 0 };
    for (const s of this.slots) counts[s.state]++;
    return counts;
  }

  /**
   * Tells every worker to drain (SPEC §8) and waits for them to exit; past `timeoutMs` the rest are
   * killed. Resolves true when every worker exited 0 by itself.
   */
  async stop(signal: string, timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    const live = this.slots.filter((s) => s.worker !== undefined);
    for (const s of this.slots) {
      clearTimeout(s.restartTimer);
      s.state = 'stopping';
    }
    for (const s of live) sendQuietly(s.worker, { type: 'switchyard:shutdown', signal });
    const deadline = setTimeout(() => {
      for (const s of live.filter((l) => l.worker !== undefined)) {
        this.options.logger.error({ worker: s.slot, workerPid: s.worker!.process.pid, timeoutMs }, 'worker did not stop in time; killing it');
        s.worker!.process.kill('SIGKILL');
      }
    }, timeoutMs);
    const codes = await Promise.all(live.map((s) => s.exited));
    clearTimeout(deadline);
    return codes.every((code) => code === 0);
  }

  private fork(entry: Slot): void {
    const worker = cluster.fork();
    entry.state = 'starting';
    entry.startedAtMs = Date.now();
    entry.worker = worker;
    entry.channel = new WorkerChannel(entry.slot, worker);
    entry.exited = new Promise((resolve) => worker.once('exit', (code) => resolve(code)));
    worker.on('message', (message: unknown) => {
      if (isSwitchyardMessage(message)) this.received(entry, worker, message as FromWorker);
    });
    // A send to a worker that just died fails here, and is handled by its exit.
    worker.on('error', () => {});
    worker.once('exit', (code, signal) => this.exited(entry, worker, code, signal));
  }

  private received(entry: Slot, worker: Worker, message: FromWorker): void {
    switch (message.type) {
      case 'switchyard:booted':
        // A worker booting into a shutdown is told so at once; it exits 0 without serving.
        sendQuietly(worker, this.stopping ? { type: 'switchyard:shutdown', signal: 'shutdown' } : this.options.startMessage(entry.slot));
        return;
      case 'switchyard:ready':
        if (entry.state !== 'starting') return;
        entry.state = 'ready';
        entry.serving = true;
        this.options.logger.info({ worker: entry.slot, workerPid: worker.process.pid, trafficPort: message.trafficPort, version: message.version }, 'worker ready');
        this.options.onReady(entry.channel!, message.version);
        if (this.firstStart !== undefined && this.allReady()) {
          this.firstStart.resolve();
          this.firstStart = undefined;
        }
        return;
      case 'switchyard:reply':
        entry.channel?.settle(message);
    }
  }

  private exited(entry: Slot, worker: Worker, code: number | null, signal: string | null): void {
    entry.channel?.close(`exited (${code ?? signal})`);
    entry.channel = undefined;
    entry.worker = undefined;
    entry.serving = false;
    this.options.onExit?.(worker.process.pid);
    if (this.stopping) return;
    const details = { worker: entry.slot, workerPid: worker.process.pid, code, signal };
    if (this.firstStart !== undefined) {
      this.options.logger.fatal(details, 'worker exited before it was ready; not starting');
      this.firstStart.reject(new WorkerStartError(`worker ${entry.slot} exited (${code ?? signal}) before it was ready`));
      this.firstStart = undefined;
      return;
    }
    const livedMs = Date.now() - entry.startedAtMs;
    entry.restartDelayMs = nextRestartDelayMs(entry.restartDelayMs, livedMs, this.options.backoff ?? defaultRestartBackoff);
    entry.state = 'restarting';
    this.options.onRestart();
    this.options.logger.error({ ...details, livedMs, restartInMs: entry.restartDelayMs }, 'worker exited unexpectedly; restarting it');
    entry.restartTimer = setTimeout(() => this.fork(entry), entry.restartDelayMs);
  }
}

function sendQuietly(worker: Worker | undefined, message: object): void {
  if (worker !== undefined && worker.isConnected()) worker.send(message, () => {});
}
