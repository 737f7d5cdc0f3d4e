/**
 * Which clusters may take a request (SPEC §4): not drained, breaker not open on this instance,
 * fleet-healthy, and not inside its failback hold. The panic rule keeps a broken health endpoint from
 * taking a whole route down: when health alone would leave nothing eligible, health is ignored.
 */
import type { RuntimeCluster } from '../config/runtime.ts';
import type { BreakerView, ClusterView, FleetSnapshot } from '../state/snapshot.ts';

export type IneligibleReason = 'drained' | 'breaker_open' | 'unhealthy' | 'failback_hold';

/** One cluster's standing, before cost. */
export interface Standing {
  readonly cluster: RuntimeCluster;
  readonly view: ClusterView | undefined;
  /** Reasons that always exclude the cluster. */
  readonly hard: readonly IneligibleReason[];
  readonly unhealthy: boolean;
  readonly inHold: boolean;
  /** Share of its normal weight while slowly starting after failback, 0..1. */
  readonly rampFactor: number;
}

export interface ScoringTimes {
  readonly failbackHoldMs: number;
  readonly slowStartMs: number;
}

const none: readonly IneligibleReason[] = Object.freeze([]);

/** Reads one cluster's standing from the snapshot and breakers. */
export function standingOf(cluster: RuntimeCluster, snapshot: FleetSnapshot, breakers: BreakerView,
  times: ScoringTimes, nowMs: number): Standing {
  const view = snapshot.clusters.get(cluster.name);
  const drained = view?.drained === true;
  const open = breakers.state(cluster.name) === 'open';
  const hard = drained && open ? ['drained', 'breaker_open'] as const : drained ? ['drained'] as const
    : open ? ['breaker_open'] as const : none;
  const since = view?.availableSinceMs ?? 0;
  const upForMs = since === 0 ? Infinity : nowMs - since;
  return {
    cluster,
    view,
    hard,
    unhealthy: view?.healthy === false,
    inHold: upForMs < times.failbackHoldMs,
    rampFactor: times.slowStartMs <= 0 ? 1 : Math.min(1, Math.max(0, (upForMs - times.failbackHoldMs) / times.slowStartMs)),
  };
}

/** Whether health must be ignored for this route: every cluster is excluded by health alone or worse. */
export function isPanic(standings: readonly Standing[]): boolean {
  let anyUsableIgnoringHealth = false;
  for (const s of standings) {
    if (s.hard.length > 0) continue;
    if (!s.unhealthy) return false;
    anyUsableIgnoringHealth = true;
  }
  return anyUsableIgnoringHealth;
}

/** The reasons a cluster is not eligible, given the route's panic state and whether holds are waived. */
export function ineligibleReasons(s: Standing, panic: boolean, waiveHold: boolean): readonly IneligibleReason[] {
  const unhealthy = s.unhealthy && !panic;
  const held = s.inHold && !waiveHold;
  if (!unhealthy && !held) return s.hard;
  const reasons = [...s.hard];
  if (unhealthy) reasons.push('unhealthy');
  if (held) reasons.push('failback_hold');
  return reasons;
}
