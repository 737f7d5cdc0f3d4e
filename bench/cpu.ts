/**
 * CPU accounting from /proc (Linux): what the target under test used, and what processes outside the
 * bench used, so a run disturbed by other load on a shared machine can be told apart and repeated.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { runningChildPids } from './processes.ts';

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU use over one run, in percent of one core. */
export interface CpuUse {
  /** The target's processes (null for direct). */
  readonly targetPercent: number | null;
  /** Everything on the machine that is not this bench: other load disturbs the numbers. */
  readonly otherPercent: number | null;
}

/** Other load (percent of one core) above which a run counts as disturbed; the estimate is good to about ±10. */
export const QUIET_OTHER_LOAD_PERCENT = 20;
const QUIET_SAMPLE_MS = 1000;
/** The longest a run waits for other load to calm down. */
export const QUIET_WAIT_MAX_MS = 30_000;

/** Waits until other processes leave the machine quiet for a second; false after QUIET_WAIT_MAX_MS without. */
export async function waitForQuiet(): Promise<boolean> {
  const deadline = Date.now() + QUIET_WAIT_MAX_MS;
  while (Date.now() < deadline) {
    const stopMeter = startCpuMeter(null);
    await sleep(QUIET_SAMPLE_MS);
    const { otherPercent } = stopMeter();
    if (otherPercent === null || otherPercent <= QUIET_OTHER_LOAD_PERCENT) return true;
  }
  return false;
}

/** Starts measuring CPU use (of the target's process group, if any); the returned function ends it. */
export function startCpuMeter(targetPgid: number | null): () => CpuUse {
  const sample = () => ({
    atMs: performance.now(), machine: machineBusyCpuSeconds(), own: ownTreeCpuSeconds(),
    target: targetPgid === null ? null : groupCpuSeconds(targetPgid),
  });
  const before = sample();
  return () => {
    const after = sample();
    const elapsedSeconds = (after.atMs - before.atMs) / 1000;
    const percent = (a: number | null, b: number | null) => (a === null || b === null ? null : (100 * (a - b)) / elapsedSeconds);
    const machinePercent = percent(after.machine, before.machine);
    const ownPercent = percent(after.own, before.own);
    return {
      targetPercent: percent(after.target, before.target),
      otherPercent: machinePercent === null || ownPercent === null ? null : Math.max(0, machinePercent - ownPercent),
    };
  };
}

/** CPU seconds used so far by a child's whole process group (Linux /proc), or null elsewhere. */
export function groupCpuSeconds(pgid: number): number | null {
  const members = processGroupMembers(pgid);
  if (members === null) return null;
  const ticks = members.reduce((sum, { stat }) => sum + Number(stat[11]) + Number(stat[12]), 0);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** The live processes of a group (a child and what it forked) with their stat fields, or null without /proc. */
export function processGroupMembers(pgid: number): { pid: number; stat: string[] }[] | null {
  const members: { pid: number; stat: string[] }[] = [];
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStatFields(entry);
      if (stat !== null && Number(stat[2]) === pgid) members.push({ pid: Number(entry), stat });
    }
  } catch {
    return null;
  }
  return members;
}

/**
 * CPU seconds used so far by this process tree: this process, its reaped children, and every running
 * child's process group. Null where /proc is missing.
 */
export function ownTreeCpuSeconds(): number | null {
  const self = readStatFields('self');
  if (self === null) return null;
  let seconds = self.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / CLOCK_TICKS_PER_SECOND;
  for (const pgid of runningChildPids()) seconds += groupCpuSeconds(pgid) ?? 0;
  return seconds;
}

/** CPU seconds all CPUs of the machine spent busy (user, nice, system, irq, softirq), or null. */
export function machineBusyCpuSeconds(): number | null {
  try {
    const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 8);
    return [user, nice, system, irq, softirq].reduce((sum, ticks) => sum + Number(ticks), 0) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, ..., utime 11, stime 12, cutime 13, cstime 14]. */
function readStatFields(pid: string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
