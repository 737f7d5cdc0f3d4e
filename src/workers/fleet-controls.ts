/**
 * Drains and dial overrides the admin API set through every worker, remembered by the supervisor. With
 * the in-memory state store they live in each worker's memory only, so a worker restarted after a crash
 * would forget them and serve a drained cluster: the supervisor hands them to the new worker before it
 * serves. With Redis they live in Redis (and another gateway may have changed them since), so nothing
 * is restored.
 */
import type { FleetState } from '../state/fleet.ts';

/** What a new worker restores, by its own clock: dials carry their absolute expiry. */
export interface FleetControls {
  readonly drained: readonly string[];
  readonly dials: readonly { readonly route: string; readonly percent: number; readonly expiresAtMs: number }[];
}

export const noFleetControls: FleetControls = Object.freeze({ drained: [], dials: [] });

/** The supervisor's record of the changes every worker accepted. */
export class FleetControlLog {
  private readonly drained = new Set<string>();
  private readonly dials = new Map<string, { percent: number; expiresAtMs: number }>();

  /** A drain (`true`) or undrain every worker accepted. */
  drain(cluster: string, drained: boolean): void {
    if (drained) this.drained.add(cluster);
    else this.drained.delete(cluster);
  }

  /** A dial override every worker accepted, expiring `ttlSeconds` from `nowMs`. */
  dial(route: string, percent: number, ttlSeconds: number, nowMs: number): void {
    this.dials.set(route, { percent, expiresAtMs: nowMs + ttlSeconds * 1000 });
  }

  /** A dial override every worker cleared. */
  clearDial(route: string): void {
    this.dials.delete(route);
  }

  /** What is still in force at `nowMs`. */
  current(nowMs: number): FleetControls {
    const dials = [...this.dials].filter(([, dial]) => dial.expiresAtMs > nowMs).map(([route, dial]) => ({ route, ...dial }));
    return { drained: [...this.drained], dials };
  }
}

/** Applies remembered controls to a worker's fleet state (in-memory store) before it serves. */
export async function restoreFleetControls(fleet: FleetState, controls: FleetControls, nowMs: number): Promise<void> {
  for (const cluster of controls.drained) await fleet.setDrain(cluster, true);
  for (const { route, percent, expiresAtMs } of controls.dials) {
    const remainingMs = expiresAtMs - nowMs;
    if (remainingMs > 0) await fleet.setDialOverride(route, percent, remainingMs / 1000);
  }
}
