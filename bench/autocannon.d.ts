/**
 * The part of autocannon 9's programmatic API the bench uses (the package ships no types).
 * https://github.com/mcollina/autocannon#api
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  /** One request in a client's sequence; autocannon pre-encodes it once. */
  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }

  /** One connection. `rate` is its own share of `overallRate` (requests per second). */
  export interface Client extends EventEmitter {
    rate: number | undefined;
    destroyed: boolean;
    setRequests(requests: Request[]): void;
    /** Internal: sends the next request; the bench wraps it to pace fixed-rate runs. */
    _doRequest(...args: unknown[]): void;
  }

  export interface Options {
    url: string;
    connections?: number;
    duration?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    requests?: Request[];
    setupClient?: (client: Client) => void;
    overallRate?: number;
    ignoreCoordinatedOmission?: boolean;
    excludeErrorStats?: boolean;
    title?: string;
  }

  export interface Histogram {
    average: number;
    min: number;
    max: number;
    p50: number;
    p99: number;
    total: number;
  }

  export interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    requests: Histogram;
    latency: Histogram;
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    readonly opts: Options;
    stop(): void;
  }

  export interface TrackOptions {
    outputStream?: NodeJS.WritableStream;
    renderProgressBar?: boolean;
    renderResultsTable?: boolean;
    renderLatencyTable?: boolean;
    progressBarString?: string;
  }

  interface Autocannon {
    (options: Options): Instance;
    track(instance: Instance, options?: TrackOptions): void;
  }

  const autocannon: Autocannon;
  export default autocannon;
}
