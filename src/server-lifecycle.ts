/**
 * Process lifecycle helpers for server.ts: closing a listener without dropping in-flight requests, and
 * telling which config changes a reload cannot apply (they are bound when the listeners start).
 */
import type { Server } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import type { Config } from './config/schema.ts';

/** How often idle keep-alive connections are closed while a listener drains. */
const idleSweepMs = 50;

/**
 * Stops accepting connections and waits for in-flight requests. Node's `close()` closes idle
 * keep-alive connections only once, and a connection whose request finishes afterwards would stay
 * open for the whole keep-alive timeout, so idle connections are swept until none remain. After
 * `timeoutMs` the remaining connections are cut. Resolves true when everything finished in time.
 */
export function closeServerGracefully(server: Server, timeoutMs: number): Promise<boolean> {
  if (!server.listening) return Promise.resolve(true);
  return new Promise((resolve) => {
    let graceful = true;
    const sweep = setInterval(() => server.closeIdleConnections(), idleSweepMs);
    const deadline = setTimeout(() => {
      graceful = false;
      server.closeAllConnections();
    }, timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve(graceful);
    });
    server.closeIdleConnections();
  });
}

/**
 * Keys bound when the process starts: the listeners' addresses, the traffic listener's `limits`
 * (header size, timeouts and connection cap are Node server options) and the number of worker
 * processes. A reload that changes them keeps the running values; the caller warns, naming them.
 */
export function restartOnlyChanges(before: Config, after: Config): string[] {
  const changed: string[] = [];
  if (!isDeepStrictEqual(before.listen, after.listen)) changed.push('listen');
  if (before.admin.host !== after.admin.host || before.admin.port !== after.admin.port) changed.push('admin.host/port');
  if (before.workers !== after.workers) changed.push('workers');
  for (const key of Object.keys(after.limits) as (keyof Config['limits'])[]) {
    // maxInflight is read per request by the gateway: it does apply on reload.
    if (key !== 'maxInflight' && before.limits[key] !== after.limits[key]) changed.push(`limits.${key}`);
  }
  return changed;
}
