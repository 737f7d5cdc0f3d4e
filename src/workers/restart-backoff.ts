/**
 * How long the supervisor waits before restarting a worker that exited unexpectedly: 1 s, doubling on
 * each quick repeat up to 30 s, so a worker that crashes at once (a broken geo database, a port taken)
 * does not spin, while one that ran a good while comes back after a second.
 */

export interface RestartBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A worker that lived this long is back to `initialMs`. */
  readonly stableAfterMs: number;
}

export const defaultRestartBackoff: RestartBackoff = Object.freeze({ initialMs: 1000, maxMs: 30_000, stableAfterMs: 60_000 });

/** The delay before the next restart, given the previous delay (undefined: none yet) and how long the worker lived. */
export function nextRestartDelayMs(previousMs: number | undefined, livedMs: number, backoff: RestartBackoff = defaultRestartBackoff): number {
  if (previousMs === undefined || livedMs >= backoff.stableAfterMs) return backoff.initialMs;
  return Math.min(previousMs * 2, backoff.maxMs);
}
