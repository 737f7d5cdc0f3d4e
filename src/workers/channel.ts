/**
 * Request and reply over one worker's IPC channel, for the supervisor: each request gets an id, its
 * reply settles it, and a deadline or the worker's exit fails it, so an admin request never waits on a
 * worker that is gone.
 */
import type { Worker } from 'node:cluster';
import type { FromWorker, WorkerRequests, WorkerRequestType } from './protocol.ts';

type Reply = Extract<FromWorker, { type: 'switchyard:reply' }>;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Thrown when a worker did not answer: it exited, is disconnected or took too long. */
export class WorkerUnavailableError extends Error {
  readonly code = 'worker_unavailable';
}

/** The supervisor's end of one worker's channel. */
export class WorkerChannel {
  /** The worker slot (1..workers) this channel talks to. */
  readonly slot: number;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(slot: number, worker: Worker) {
    this.slot = slot;
    this.worker = worker;
  }

  /** The worker's process id. */
  get pid(): number | undefined {
    return this.worker.process.pid;
  }

  /** Sends a request; resolves with the worker's reply, rejects on its error, exit or `timeoutMs`. */
  request<K extends WorkerRequestType>(type: K, payload: WorkerRequests[K]['payload'], timeoutMs: number): Promise<WorkerRequests[K]['reply']> {
    if (!this.worker.isConnected()) return Promise.reject(new WorkerUnavailableError(`worker ${this.slot} is not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WorkerUnavailableError(`worker ${this.slot} did not answer ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.worker.send({ type, id, ...payload }, (err: Error | null) => {
        if (err !== null) this.fail(id, new WorkerUnavailableError(`worker ${this.slot}: ${err.message}`));
      });
    });
  }

  /** Settles the request a reply answers (replies to forgotten requests are dropped). */
  settle(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(new Error(`worker ${this.slot}: ${reply.error}`));
  }

  /** Fails every request still waiting (the worker exited). */
  close(reason: string): void {
    for (const id of [...this.pending.keys()]) this.fail(id, new WorkerUnavailableError(`worker ${this.slot} ${reason}`));
  }

  private fail(id: number, error: Error): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(error);
  }
}
