/**
 * The results table (markdown) and the README block it is published in. Medians over rounds; the
 * spread is min–max; ratios compare medians of the same profile from the same run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { SLOW_MACHINE_FACTOR, type ProbeTimes } from './cpu-probe.ts';
import { QUIET_OTHER_LOAD_PERCENT } from './cpu.ts';
import type { RunResult } from './load.ts';
import type { Placement } from './processes.ts';
import type { Profile } from './profiles.ts';
import { TARGET_LABELS, type TargetId, type UnavailableTarget } from './targets.ts';

/** One target × profile cell of the run: every round's result and the proxy's CPU use. */
export interface Measurement {
  readonly runs: RunResult[];
  /** Percent of one core used by the target's processes during each run (none for direct). */
  readonly cpuPercents: number[];
}

/** Everything the table is made of. */
export interface TableInput {
  readonly profiles: readonly Profile[];
  readonly targets: readonly TargetId[];
  readonly unavailable: readonly UnavailableTarget[];
  readonly measurement: (profile: Profile, target: TargetId) => Measurement | undefined;
  /** Direct at the rate `target` was driven at in the fixed-rate profile. */
  readonly directAtRateOf: (target: TargetId) => Measurement | undefined;
}

/** Where a run happened, printed under the table and into the README. */
export interface RunFacts {
  readonly date: string;
  readonly node: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly placement: string;
  readonly method: string;
  readonly notes: readonly string[];
}

/** The facts of a run that depend only on where and when it ran. */
export function machineFacts(placement: Placement): Pick<RunFacts, 'date' | 'node' | 'cpuModel' | 'cores' | 'placement'> {
  return {
    date: new Date().toISOString().slice(0, 10), node: process.version, cpuModel: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length, placement: placement.description,
  };
}

/**
 * What other processes did to the machine, for the notes: the median share of a core they used per
 * run (or per `per`), and how many were disturbed beyond QUIET_OTHER_LOAD_PERCENT.
 */
export function otherLoadNote(percents: readonly number[], per = 'run', advice = 'treat their rows with care'): string {
  if (percents.length === 0) return 'Other load on the machine was not measured (no /proc).';
  const typical = `Other processes used a median ${Math.round(median(percents))} % of a core per ${per}`;
  const disturbed = percents.filter((percent) => percent > QUIET_OTHER_LOAD_PERCENT);
  if (disturbed.length === 0) return `${typical}: quiet machine.`;
  return `${typical}; ⚠ ${disturbed.length} of ${percents.length} ${per}s were disturbed by more than ` +
    `${QUIET_OTHER_LOAD_PERCENT} % (worst ${Math.round(Math.max(...disturbed))} %): ${advice}.`;
}

/**
 * What the speed probe on the proxy CPU saw over the run (bench/cpu-probe.ts), or null without probes:
 * how much the machine's speed at loopback traffic moved, against a plain integer loop, and how many
 * runs were repeated or kept while it was slow.
 */
export function machineSpeedNote(times: readonly ProbeTimes[], slow: { readonly repeated: number; readonly kept: number }): string | null {
  if (times.length === 0) return null;
  const spread = (values: number[]) => {
    const best = Math.min(...values);
    const worst = Math.max(...values);
    return `best ${best.toFixed(0)} ms, median ${median(values).toFixed(0)} ms, slowest ${worst.toFixed(0)} ms (${(worst / best).toFixed(2)}×)`;
  };
  const summary = `Machine speed at the proxy CPU, probed before and after every run: 2,000 loopback round trips ` +
    `${spread(times.map((t) => t.roundTripsMs))}; an integer loop ${spread(times.map((t) => t.loopMs))}`;
  if (slow.repeated === 0 && slow.kept === 0) return `${summary}.`;
  return `${summary}; ${slow.repeated} run(s) repeated because the round trips were over ${SLOW_MACHINE_FACTOR}× the best` +
    `${slow.kept > 0 ? `, ⚠ ${slow.kept} kept slow after the repeats: treat their rows with care` : ''}.`;
}

const REFERENCES: readonly TargetId[] = ['direct', 'fastify-http-proxy', 'bare', 'nginx'];

/** The markers around a generated README block. */
export interface ReadmeMarkers {
  readonly start: string;
  readonly end: string;
}

/** The bench table's block. */
const BENCH_MARKERS: ReadmeMarkers = { start: '<!-- bench:start -->', end: '<!-- bench:end -->' };

const REASON_CHARS = 160;
const NONE = '—';

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const rate = (measurement: Measurement) => median(measurement.runs.map((run) => run.requestsPerSecond));
const p50 = (measurement: Measurement) => median(measurement.runs.map((run) => run.p50Ms));
const p99 = (measurement: Measurement) => median(measurement.runs.map((run) => run.p99Ms));

const integer = (value: number) => (Number.isNaN(value) ? NONE : Math.round(value).toLocaleString('en-US'));
const ms = (value: number) => (Number.isNaN(value) ? NONE : value.toFixed(2));
const signedMs = (value: number) => (Number.isNaN(value) ? NONE : `${value >= 0 ? '+' : ''}${value.toFixed(2)}`);
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function spread(measurement: Measurement): string {
  const rates = measurement.runs.map((run) => run.requestsPerSecond);
  const failures = measurement.runs.reduce((sum, run) => sum + run.failures, 0);
  const range = `${integer(Math.min(...rates))}–${integer(Math.max(...rates))}`;
  return failures > 0 ? `${range} ⚠ ${integer(failures)} failed` : range;
}

function ratios(input: TableInput, profile: Profile, own: Measurement): string[] {
  return REFERENCES.map((reference) => {
    const other = profile.id === 'rate' ? undefined : input.measurement(profile, reference);
    return other === undefined ? NONE : (rate(own) / rate(other)).toFixed(2);
  });
}

function added(input: TableInput, profile: Profile, target: TargetId, own: Measurement): string {
  if (profile.id !== 'rate') return NONE;
  const direct = target === 'direct' ? own : input.directAtRateOf(target);
  if (direct === undefined) return NONE;
  return `${signedMs(p50(own) - p50(direct))} / ${signedMs(p99(own) - p99(direct))}`;
}

function row(input: TableInput, profile: Profile, target: TargetId, own: Measurement): string[] {
  const cpu = own.cpuPercents.length === 0 ? NONE : `${Math.round(median(own.cpuPercents))} %`;
  return [
    TARGET_LABELS[target], profile.label, integer(rate(own)), spread(own), ms(p50(own)), ms(p99(own)),
    ...ratios(input, profile, own), added(input, profile, target, own), cpu,
  ];
}

/** The markdown table: target × profile rows, then one row per target that could not run. */
export function renderTable(input: TableInput): string {
  const header = [
    'target', 'profile', 'req/s (median)', 'spread (min–max)', 'p50 ms', 'p99 ms', '× direct',
    '× @fastify/http-proxy', '× bare', '× nginx', 'added p50 / p99 ms', 'proxy CPU',
  ];
  const lines = [header, header.map(() => '---')];
  for (const profile of input.profiles) {
    for (const target of input.targets) {
      const own = input.measurement(profile, target);
      if (own !== undefined && own.runs.length > 0) lines.push(row(input, profile, target, own));
    }
  }
  for (const { id, reason } of input.unavailable) {
    const shortReason = reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS)}…` : reason;
    lines.push([TARGET_LABELS[id], 'all', `not measured: ${shortReason}`, ...header.slice(3).map(() => NONE)]);
  }
  return lines.map((cells) => `| ${cells.map(cell).join(' | ')} |`).join('\n');
}

/** The table with the facts of the run around it: what goes to stdout and into the README. */
export function renderReport(table: string, facts: RunFacts): string {
  const about = `Measured ${facts.date} · Node ${facts.node} · ${facts.cpuModel} · ${facts.cores} cores · ${facts.placement}. ` +
    `${facts.method}`;
  return [about, '', table, '', ...facts.notes.map((note) => `- ${note}`)].join('\n');
}

/**
 * Replaces the README block between `markers` (the bench's by default; appending the markers at the end
 * when absent). Returns false, writing nothing, when the README does not exist.
 */
export function writeReadmeBlock(readmePath: string, report: string, markers = BENCH_MARKERS): boolean {
  if (!existsSync(readmePath)) return false;
  const readme = readFileSync(readmePath, 'utf8');
  const block = `${markers.start}\n${report}\n${markers.end}`;
  const start = readme.indexOf(markers.start);
  const end = readme.indexOf(markers.end, start);
  const next = start !== -1 && end !== -1
    ? `${readme.slice(0, start)}${block}${readme.slice(end + markers.end.length)}`
    : `${readme}${readme.endsWith('\n') || readme === '' ? '' : '\n'}\n${block}\n`;
  writeFileSync(readmePath, next);
  return true;
}
