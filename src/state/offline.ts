/**
 * A one-off, read-only look at the fleet's state in Redis for `switchyard explain` (SPEC §8): read
 * within a deadline, publish nothing, and give up quietly when Redis does not answer in time.
 */
import type { Config } from '../config/schema.ts';
import { AvailabilityTracker } from './availability.ts';
import { buildSnapshot } from './fleet-view.ts';
import { silentLogger, type StateLogger } from './logger.ts';
import { RedisStateStore } from './redis-store.ts';
import { reportVersion } from './report.ts';
import { closedBreakers, type FleetSnapshot } from './snapshot.ts';

/** The fleet snapshot as the live instances publish it, or undefined when Redis is unreachable within `timeoutMs`. */
export async function readFleetSnapshot(config: Config, timeoutMs: number, logger: StateLogger = silentLogger): Promise<FleetSnapshot | undefined> {
  if (config.state.redis === '') return undefined;
  const deadline = Date.now() + timeoutMs;
  const store = new RedisStateStore({ url: config.state.redis, keyPrefix: config.state.keyPrefix, publishIntervalMs: timeoutMs, logger });
  try {
    if (!(await store.connect(timeoutMs))) return undefined;
    const nowMs = Date.now();
    const read = await withDeadline(store.exchange({
      clusters: Object.keys(config.clusters), routes: config.routes.map((r) => r.name),
      nowMs, staleAfterMs: config.state.staleAfterMs, reportTtlMs: config.state.staleAfterMs,
    }), deadline - nowMs);
    if (read === undefined) return undefined;
    const { snapshot } = buildSnapshot({
      config, own: { v: reportVersion, id: '', at: nowMs, clusters: {} }, remote: read.reports, external: read.external,
      drained: read.drained, dialOverrides: read.dialOverrides, isolated: false, storeUp: true, nowMs,
      breakers: closedBreakers, availability: new AvailabilityTracker(),
    });
    return Object.freeze({ ...snapshot, liveInstances: read.reports.length });
  } catch {
    return undefined;
  } finally {
    await store.close();
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
