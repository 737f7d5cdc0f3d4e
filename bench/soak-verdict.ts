/**
 * The checks of a soak (performance issue: "RSS flat within ±10 % after warm-up, no growth in
 * handles") and the markdown summary that reports them. Samples taken during the warm-up are left out.
 */
import type { RunResult } from './load.ts';
import { median, renderReport, type RunFacts } from './report.ts';
import type { Sample } from './soak-sampler.ts';

/** What a soak produced. */
export interface SoakOutcome {
  readonly samples: readonly Sample[];
  readonly load: RunResult;
  /** How long the load ran, in seconds (shorter than asked when Switchyard exited). */
  readonly loadSeconds: number;
  readonly askedRate: number;
  /** How Switchyard exited during the soak, or null when it ran throughout. */
  readonly exited: string | null;
}

/** One row of the summary; `passed` is null for a row that only informs. */
export interface Check {
  readonly name: string;
  readonly result: string;
  readonly passed: boolean | null;
}

/**
 * RSS after warm-up may rise this much over the warmed-up level (the issue's ±10 %, read as the leak
 * check it is). Only growth fails: V8 hands heap pages back to the system after full collections and
 * takes them again later, so RSS of a healthy gateway at steady load steps down by tens of MiB and
 * back (seen here: 308 → 211 → 247 → 300 MiB within minutes, heap used 40-90 MiB throughout). A leak
 * shows as a level above anything the warm-up reached.
 */
const RSS_TOLERANCE_PERCENT = 10;
/**
 * "No growth" in descriptors and handles: the median of the first third of the post-warm-up samples
 * is compared with the median of the last third. Thirds, not the first and last sample, so that one
 * sample taken while a connection was opening or closing does not decide; a leak grows with the
 * requests served and shows in the medians. The slack allows for connections in flight: the upstream
 * pool opens another socket when paced requests briefly overlap, and each socket is one descriptor
 * and one handle.
 */
const GROWTH_SLACK = 2;
/** Thirds of fewer samples than this would compare a sample with itself. */
const MIN_SAMPLES_FOR_GROWTH = 3;
/** Non-2xx responses and connection errors allowed, as a fraction of all requests (0.1 %). */
const MAX_FAILURE_FRACTION = 0.001;
const PERCENT = 100;

/** The rules, as the summary's notes state them. */
export const CHECK_NOTES: readonly string[] = [
  `RSS: no sample after the warm-up more than ${RSS_TOLERANCE_PERCENT} % above the highest RSS of the warm-up. ` +
    `Drops pass: V8 returns heap pages to the system after full collections and takes them again later. ` +
    `Anonymous RSS (RssAnon: what the process allocated, without the node binary's pages) is shown beside it.`,
  `Descriptors and handles: median of the first third of the samples after the warm-up → median of the last third; ` +
    `more than +${GROWTH_SLACK} (connections in flight) fails.`,
  `Failed requests: non-2xx responses and connection errors, at most ${MAX_FAILURE_FRACTION * PERCENT} % of all requests.`,
];
const BYTES_PER_MIB = 1024 * 1024;

const mib = (bytes: number) => `${(bytes / BYTES_PER_MIB).toFixed(1)} MiB`;
const integer = (value: number) => Math.round(value).toLocaleString('en-US');
/** A count, or the median of an even number of counts (which may end in .5). */
const count = (value: number) => (Number.isInteger(value) ? integer(value) : value.toFixed(1));
const present = (values: readonly (number | null)[]) => values.filter((value): value is number => value !== null);

function processCheck(outcome: SoakOutcome): Check {
  return { name: 'Switchyard process', result: outcome.exited ?? 'ran throughout', passed: outcome.exited === null };
}

/**
 * RSS after the warm-up against the warm-up's peak (`judged`: total RSS decides, anonymous RSS informs).
 * Without warm-up samples, the first sample after it is the reference.
 */
function rssCheck(name: string, warmUp: readonly number[], measured: readonly number[], judged: boolean): Check {
  if (measured.length === 0) return { name, result: 'no samples after the warm-up', passed: judged ? false : null };
  const reference = warmUp.length > 0 ? Math.max(...warmUp) : measured[0];
  const peak = Math.max(...measured);
  const growth = (peak - reference) / reference * PERCENT;
  const result = `min ${mib(Math.min(...measured))} · median ${mib(median(measured))} · max ${mib(peak)}; ` +
    `warm-up peak ${mib(reference)}, growth over it ${growth > 0 ? '+' : ''}${growth.toFixed(1)} %` +
    (judged ? ` (limit +${RSS_TOLERANCE_PERCENT} %)` : '');
  return { name, result, passed: judged ? growth <= RSS_TOLERANCE_PERCENT : null };
}

/** Median of the first third against the median of the last third of the post-warm-up values. */
function thirds(values: readonly number[]): { start: number; end: number } {
  const third = Math.max(1, Math.floor(values.length / 3));
  return { start: median(values.slice(0, third)), end: median(values.slice(-third)) };
}

function growthCheck(name: string, values: readonly (number | null)[], absent: string): Check {
  const known = present(values);
  if (known.length === 0) return { name, result: absent, passed: null };
  if (known.length < MIN_SAMPLES_FOR_GROWTH) {
    return { name, result: `${known.length} sample(s) after the warm-up; ${MIN_SAMPLES_FOR_GROWTH} needed`, passed: false };
  }
  const { start, end } = thirds(known);
  const growth = end - start;
  const result = `${count(start)} → ${count(end)} (${growth >= 0 ? '+' : ''}${count(growth)}, slack ${GROWTH_SLACK}; ` +
    `range ${count(Math.min(...known))}–${count(Math.max(...known))})`;
  return { name, result, passed: growth <= GROWTH_SLACK };
}

function heapRow(samples: readonly Sample[]): Check {
  const values = present(samples.map((sample) => sample.heapUsedBytes));
  if (values.length === 0) return { name: 'heap used', result: 'not in /metrics', passed: null };
  const { start, end } = thirds(values);
  return { name: 'heap used', result: `${mib(start)} → ${mib(end)} (max ${mib(Math.max(...values))})`, passed: null };
}

function failureCheck(outcome: SoakOutcome): Check {
  const succeeded = Math.round(outcome.load.requestsPerSecond * outcome.loadSeconds);
  const total = succeeded + outcome.load.failures;
  const fraction = total === 0 ? 1 : outcome.load.failures / total;
  return {
    name: 'failed requests (non-2xx, errors)',
    result: `${integer(outcome.load.failures)} of ${integer(total)} (${(fraction * PERCENT).toFixed(3)} %; limit ${MAX_FAILURE_FRACTION * PERCENT} %)`,
    passed: succeeded > 0 && fraction <= MAX_FAILURE_FRACTION,
  };
}

/** Every check of a soak, in the order the summary shows them. */
export function judgeSoak(outcome: SoakOutcome): Check[] {
  const measured = outcome.samples.filter((sample) => !sample.warmUp);
  const warmUp = outcome.samples.filter((sample) => sample.warmUp);
  const rss = (samples: readonly Sample[]) => present(samples.map((sample) => sample.rssBytes));
  const anon = (samples: readonly Sample[]) => present(samples.map((sample) => sample.anonBytes));
  return [
    processCheck(outcome),
    rssCheck('RSS after warm-up', rss(warmUp), rss(measured), true),
    rssCheck('anonymous RSS after warm-up', anon(warmUp), anon(measured), false),
    growthCheck('open file descriptors', measured.map((sample) => sample.fds), 'not readable (no /proc)'),
    growthCheck('active handles', measured.map((sample) => sample.handles), 'not in /metrics: not checked'),
    heapRow(measured),
    failureCheck(outcome),
    { name: 'rate achieved', result: `${integer(outcome.load.requestsPerSecond)} req/s (asked ${integer(outcome.askedRate)})`, passed: null },
  ];
}

/** Whether every check that decides passed. */
export function soakPassed(checks: readonly Check[]): boolean {
  return checks.every((check) => check.passed !== false);
}

/** The markdown summary: facts of the run, the checks, notes, and the verdict line. */
export function renderSoakReport(checks: readonly Check[], facts: RunFacts): string {
  const verdict = (check: Check) => (check.passed === null ? '—' : check.passed ? 'pass' : '**fail**');
  const table = [
    '| check | result | verdict |', '| --- | --- | --- |',
    ...checks.map((check) => `| ${check.name} | ${check.result.replaceAll('|', '\\|')} | ${verdict(check)} |`),
  ].join('\n');
  const failed = checks.filter((check) => check.passed === false).map((check) => check.name);
  const line = failed.length === 0 ? '**Verdict: pass**' : `**Verdict: fail** (${failed.join(', ')})`;
  return `${renderReport(table, facts)}\n\n${line}`;
}
