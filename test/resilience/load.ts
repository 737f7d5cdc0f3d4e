/**
 * Load for resilience tests: autocannon in this process, with every response recorded (when it
 * arrived, its status and which cluster answered) so tests can tell what happened around an event.
 */
import autocannon, { type Options, type Request, type Result } from 'autocannon';

/** One answer as the load generator saw it. */
export interface Seen {
  /** performance.now() when the response arrived. */
  readonly atMs: number;
  readonly status: number;
  readonly cluster: string;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  /** Stop after this many requests … */
  readonly amount?: number;
  /** … or after this many seconds. */
  readonly durationSeconds?: number;
  readonly overallRate?: number;
  readonly method?: string;
  readonly body?: string;
}

export interface Load {
  readonly seen: Seen[];
  /** Socket errors and timeouts: requests that got no answer at all. */
  readonly errorsAt: number[];
  readonly done: Promise<Result>;
  stop(): void;
}

/** Parts of autocannon's API its bench typings leave out. */
type FullOptions = Options & { amount?: number };
type RecordingRequest = Request & {
  onResponse(status: number, body: string, context: unknown, headers: Record<string, string>): void;
};

/** Starts autocannon; `done` resolves with its summary. */
export function startLoad(options: LoadOptions): Load {
  const seen: Seen[] = [];
  const errorsAt: number[] = [];
  const request: RecordingRequest = {
    method: options.method ?? 'GET',
    path: '/',
    ...(options.body === undefined ? {} : { body: options.body, headers: { 'content-type': 'application/json' } }),
    onResponse: (status, _body, _context, headers) => {
      seen.push({ atMs: performance.now(), status, cluster: headers['x-switchyard-cluster'] ?? 'none' });
    },
  };
  // autocannon rejects keys present with `undefined` values.
  const run: FullOptions = { url: options.url, connections: options.connections, timeout: 5, requests: [request] };
  if (options.amount !== undefined) run.amount = options.amount;
  if (options.durationSeconds !== undefined) run.duration = options.durationSeconds;
  if (options.overallRate !== undefined) run.overallRate = options.overallRate;
  const instance = autocannon(run);
  instance.on('reqError', () => errorsAt.push(performance.now()));
  const done = new Promise<Result>((resolve, reject) => instance.then(resolve, reject));
  return { seen, errorsAt, done, stop: () => instance.stop() };
}
