/**
 * `npm run bench:soak`: the performance issue's soak ("10 minutes at half load: RSS flat within ±10 %
 * after warm-up, no growth in handles"). Starts the bench upstream and Switchyard exactly as the bench
 * does, measures Switchyard's max GET rate (or takes `--rate`), drives it at half that rate, paced, and
 * samples its memory, descriptors and handles along the way. Prints a markdown summary on stdout and
 * exits 0 when every check passed, 1 otherwise. Every child is stopped at the end, on SIGINT and on errors.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { beginRun, positiveInteger, ROOT, startBenchTargets, type RunSetup } from './harness.ts';
import { runAutocannon } from './load.ts';
import { logSummary, stopAllChildren } from './processes.ts';
import { buildProfiles, type Profile } from './profiles.ts';
import { machineFacts, median, otherLoadNote, writeReadmeBlock } from './report.ts';
import { sampleDuringSoak, type Sample } from './soak-sampler.ts';
import { CHECK_NOTES, judgeSoak, renderSoakReport, soakPassed, type SoakOutcome } from './soak-verdict.ts';
import { log, Session } from './session.ts';
import type { StartedTarget } from './targets.ts';

/** The soak's settings, from the command line. */
interface SoakOptions {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly intervalSeconds: number;
  /** Requests per second to drive; null: half of the max GET rate, measured first. */
  readonly rate: number | null;
  readonly switchyardWorkers: number;
  readonly writeReadme: boolean;
  readonly readme: string;
}

const DEFAULT_DURATION_SECONDS = 600;
const DEFAULT_INTERVAL_SECONDS = 10;
/** The warm-up is 2 minutes, or 20 % of a shorter soak (a 10-minute soak gets both). */
const MAX_DEFAULT_WARMUP_SECONDS = 120;
const DEFAULT_WARMUP_FRACTION = 0.2;
/** The max-rate measurement, like a full bench run: warm-up, then one measured run, 50 connections. */
const MAX_RATE = { warmupSeconds: 3, settleSeconds: 0, durationSeconds: 5, connections: 50 };
const SOAK_MARKERS = { start: '<!-- soak:start -->', end: '<!-- soak:end -->' };
const SECONDS_PER_UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };
const BYTES_PER_MIB = 1024 * 1024;
const integer = (value: number) => Math.round(value).toLocaleString('en-US');
const USAGE = `usage: npm run bench:soak -- [--duration 10m] [--warmup 2m] [--interval 10s] [--rate N]
                             [--workers N] [--write-readme] [--readme FILE]

  durations take 600, 600s, 10m or 1h
  --duration    how long the load runs, warm-up included (default 10m)
  --warmup      samples this early are shown but not checked (default 2m, or 20 % of a shorter soak)
  --interval    time between samples (default 10s)
  --rate N      requests per second to drive; default: half of Switchyard's max GET rate, measured first
  --workers N   run Switchyard with \`workers: N\`; memory and descriptors are summed over its processes
`;

/** Seconds in `600`, `600s`, `10m` or `1h`. */
function parseSeconds(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (match === null || Number(match[1]) === 0) throw new Error(`--${name} takes a duration like 600, 30s or 10m, got ${text}`);
  return Number(match[1]) * SECONDS_PER_UNIT[match[2] ?? 's'];
}

function parseOptions(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      duration: { type: 'string' }, warmup: { type: 'string' }, interval: { type: 'string' }, rate: { type: 'string' },
      workers: { type: 'string' }, 'write-readme': { type: 'boolean' }, readme: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const durationSeconds = parseSeconds('duration', values.duration, DEFAULT_DURATION_SECONDS);
  const defaultWarmup = Math.min(MAX_DEFAULT_WARMUP_SECONDS, Math.round(durationSeconds * DEFAULT_WARMUP_FRACTION));
  const warmupSeconds = parseSeconds('warmup', values.warmup, defaultWarmup);
  const intervalSeconds = parseSeconds('interval', values.interval, DEFAULT_INTERVAL_SECONDS);
  if (warmupSeconds >= durationSeconds) throw new Error('--warmup must be shorter than --duration');
  if (intervalSeconds >= durationSeconds - warmupSeconds) throw new Error('--interval must leave samples after the warm-up');
  return {
    durationSeconds, warmupSeconds, intervalSeconds,
    rate: values.rate === undefined ? null : positiveInteger('rate', values.rate, 1),
    switchyardWorkers: positiveInteger('workers', values.workers, 1),
    writeReadme: values['write-readme'] === true,
    readme: values.readme ?? join(ROOT, 'README.md'),
  };
}

/** Runs the soak end to end; resolves to the process exit code. */
async function main(options: SoakOptions): Promise<number> {
  const setup = beginRun(options.switchyardWorkers, true);
  try {
    return await soak(options, setup);
  } finally {
    await stopAllChildren();
  }
}

async function soak(options: SoakOptions, setup: RunSetup): Promise<number> {
  const { started, unavailable } = await startBenchTargets(['switchyard'], setup, { ...options, cpuProfDir: null, switchyardNodeFlags: [] });
  const switchyard = started[0];
  if (switchyard === undefined) throw new Error(`switchyard did not start: ${unavailable[0]?.reason ?? 'unknown'}`);
  const profiles = buildProfiles(false);
  const byId = (id: Profile['id']) => profiles.find((profile) => profile.id === id)!;
  const measured = options.rate === null ? await measureMaxRate(switchyard, byId('get'), setup) : null;
  const rate = options.rate ?? Math.round(measured!.maxRate / 2);
  log(`soak: ${rate} req/s for ${options.durationSeconds} s, sampled every ${options.intervalSeconds} s, warm-up ${options.warmupSeconds} s`);
  const outcome = await driveAndSample(switchyard, byId('rate'), rate, options);
  const checks = judgeSoak(outcome);
  const rateSource = measured === null
    ? 'given by --rate'
    : `half of the max GET rate, ${integer(measured.maxRate)} req/s over ${MAX_RATE.durationSeconds} s`;
  const method = `Soak: ${byId('get').label} at ${integer(rate)} req/s (${rateSource}) for ${options.durationSeconds} s, paced evenly over ` +
    `${Math.min(MAX_RATE.connections, rate)} connections, access log on; sampled every ${options.intervalSeconds} s, the first ` +
    `${options.warmupSeconds} s are warm-up. Upstream: a bare node:http server; load: autocannon 9.`;
  const soakOtherLoad = outcome.samples.filter((sample) => !sample.warmUp).map((sample) => sample.otherPercent);
  const notes = [
    'RSS and open descriptors are summed over Switchyard\'s process group (with workers: the supervisor and every worker); handles and heap come from its admin /metrics.',
    ...CHECK_NOTES,
    ...(measured === null ? [] : [`Max-rate run: ${otherLoadNote(measured.otherLoadPercents, 'run', 'the max rate, and so the soak rate, came out low')}`]),
    `Soak: ${otherLoadNote(soakOtherLoad.filter((percent) => percent !== null), 'sample', 'rate and CPU figures are less reliable; memory and handle counts are not affected')}`,
  ];
  const report = renderSoakReport(checks, { ...machineFacts(setup.placement), method, notes });
  process.stdout.write(`${report}\n`);
  if (options.writeReadme && !writeReadmeBlock(options.readme, report, SOAK_MARKERS)) {
    log(`warning: ${options.readme} does not exist; nothing written`);
  }
  return soakPassed(checks) ? 0 : 1;
}

/** Switchyard's max GET rate, measured the way the bench measures it (warm-up, then one run), and the other load meanwhile. */
async function measureMaxRate(
  switchyard: StartedTarget, profile: Profile, setup: RunSetup,
): Promise<{ maxRate: number; otherLoadPercents: readonly number[] }> {
  const session = new Session({
    ...MAX_RATE, rounds: 1, wrk: null, loadCpu: setup.placement.loadCpu, dir: setup.dir, disturbedRetries: 0, probe: null,
  }, [switchyard], []);
  await session.warmUp(profile);
  await session.measureThroughput([profile]);
  const maxRate = median(session.results.get(profile.id, switchyard.id)?.runs.map((run) => run.requestsPerSecond) ?? []);
  if (!(maxRate >= 2)) {
    throw new Error(`no max GET rate measured: ${session.unavailable.map((target) => target.reason).join('; ') || 'no successful run'}`);
  }
  return { maxRate, otherLoadPercents: session.otherLoadPercents };
}

/** The load at `rate` for the whole duration, sampled alongside; both stop early if Switchyard exits. */
async function driveAndSample(switchyard: StartedTarget, profile: Profile, rate: number, options: SoakOptions): Promise<SoakOutcome> {
  const child = switchyard.child!;
  const stop = new AbortController();
  const startMs = performance.now();
  const elapsedSeconds = () => Math.round((performance.now() - startMs) / 1000);
  let exited: string | null = null;
  void child.exited.then(() => {
    exited ??= `exited after ${elapsedSeconds()} s (${child.exit?.code ?? child.exit?.signal}): ${logSummary(child.logFile)}`;
    stop.abort();
  });
  const load = runAutocannon({
    url: switchyard.url, requests: profile.requests, connections: MAX_RATE.connections, durationSeconds: options.durationSeconds,
    overallRate: rate, title: 'soak', progressBar: false, signal: stop.signal,
  }).finally(() => stop.abort());
  const samples = await sampleDuringSoak({
    pgid: child.pid, adminUrl: switchyard.adminUrl!, signal: stop.signal, ...options,
  }, (sample) => log(progressLine(sample)));
  const result = await load;
  const loadSeconds = (performance.now() - startMs) / 1000;
  // Read before the children are stopped: their normal stop at the end is no failure.
  return { samples, load: result, loadSeconds, askedRate: rate, exited };
}

function progressLine(sample: Sample): string {
  const number = (value: number | null, text: (known: number) => string) => (value === null ? '—' : text(value));
  return [
    `${String(sample.elapsedSeconds).padStart(5)} s`,
    `${number(sample.requestsPerSecond, integer)} req/s`,
    `RSS ${number(sample.rssBytes, (value) => (value / BYTES_PER_MIB).toFixed(1))} MiB`,
    `anon ${number(sample.anonBytes, (value) => (value / BYTES_PER_MIB).toFixed(1))} MiB`,
    `fds ${number(sample.fds, String)}`,
    `handles ${number(sample.handles, String)}`,
    `heap ${number(sample.heapUsedBytes, (value) => (value / BYTES_PER_MIB).toFixed(1))} MiB`,
    `CPU ${number(sample.cpuPercent, (value) => `${Math.round(value)} %`)}`,
  ].join(' · ') + (sample.warmUp ? ' (warm-up)' : '');
}

try {
  process.exitCode = await main(parseOptions(process.argv.slice(2)));
} catch (error) {
  log(`bench:soak: ${(error as Error).message}`);
  process.exitCode = 1;
}
