/**
 * The effective standby dial of a route (SPEC §5): an admin override (fleet-wide, with expiry) beats the
 * active schedule, which beats the config value. Pure: time comes in as an argument, so schedule
 * windows take effect at their boundaries without a reload.
 */
import type { RuntimeConfig, RuntimeRoute, RuntimeSchedule } from '../config/runtime.ts';
import type { FleetSnapshot } from '../state/snapshot.ts';

export type DialSource = 'override' | 'schedule' | 'config';

export interface EffectiveDial {
  readonly percent: number;
  readonly source: DialSource;
  /** Name of the schedule when the source is a schedule. */
  readonly schedule?: string;
  /** Expiry of the override (epoch ms) when the source is an override. */
  readonly expiresAtMs?: number;
}

const zeroConfigDial: EffectiveDial = Object.freeze({ percent: 0, source: 'config' });

/** The dial that applies to a route at `nowMs`. */
export function effectiveDial(route: RuntimeRoute, runtime: RuntimeConfig, snapshot: FleetSnapshot, nowMs: number): EffectiveDial {
  if (route.standby === undefined) return zeroConfigDial;
  const override = snapshot.dialOverrides.get(route.name);
  if (override !== undefined && override.expiresAtMs > nowMs) {
    return { percent: override.percent, source: 'override', expiresAtMs: override.expiresAtMs };
  }
  const schedule = activeSchedule(runtime.schedules, route.name, nowMs);
  if (schedule !== undefined) {
    return { percent: scheduledPercent(schedule, route.name, nowMs), source: 'schedule', schedule: schedule.name };
  }
  const percent = route.config.standby?.dial ?? 0;
  return percent === 0 ? zeroConfigDial : { percent, source: 'config' };
}

/** The schedule whose window contains `nowMs` and that dials this route (validation forbids overlaps). */
export function activeSchedule(schedules: readonly RuntimeSchedule[], routeName: string, nowMs: number): RuntimeSchedule | undefined {
  for (let i = 0; i < schedules.length; i++) {
    const s = schedules[i];
    if (nowMs >= s.fromMs && nowMs < s.toMs && s.dials.has(routeName)) return s;
  }
  return undefined;
}

/** A schedule's dial at `nowMs`, ramping linearly from 0 over `rampMs` so the standby warms up. */
export function scheduledPercent(schedule: RuntimeSchedule, routeName: string, nowMs: number): number {
  const target = schedule.dials.get(routeName) ?? 0;
  if (schedule.rampMs <= 0) return target;
  const progress = Math.min(1, Math.max(0, (nowMs - schedule.fromMs) / schedule.rampMs));
  return Math.round(target * progress * 100) / 100;
}
