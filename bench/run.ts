/**
 * `npm run bench`: starts the bench upstream and every selected target as pinned child processes, then
 * measures them interleaved over several rounds (throughput profiles first, then each target at half its
 * own max GET rate next to direct at the same rate), prints the markdown table on stdout and optionally
 * publishes it in README.md. Progress goes to stderr. Every child is stopped at the end, on SIGINT and
 * on errors.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { beginRun, positiveInteger, ROOT, startBenchTargets } from './harness.ts';
import { findExecutable, stopAllChildren, type Placement } from './processes.ts';
import { CpuProbe } from './cpu-probe.ts';
import { buildProfiles, PROFILE_IDS, type Profile, type ProfileId } from './profiles.ts';
import { machineFacts, machineSpeedNote, otherLoadNote, renderReport, renderTable, writeReadmeBlock, type RunFacts } from './report.ts';
import { directAtRateKey, log, Session } from './session.ts';
import { TARGET_IDS, TARGET_LABELS, type TargetId } from './targets.ts';

/** The run's settings, from the command line. */
interface BenchOptions {
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Unmeasured seconds at the start of each fixed-rate run (same connections). */
  readonly settleSeconds: number;
  readonly connections: number;
  readonly targets: readonly TargetId[];
  readonly writeReadme: boolean;
  readonly readme: string;
  readonly wrk: boolean;
  readonly disturbedRetries: number;
  /** Profiles to measure (default: all). */
  readonly profiles: readonly ProfileId[];
  /** `workers:` of the Switchyard target. */
  readonly switchyardWorkers: number;
  /** Directory for Switchyard's V8 CPU profiles (`--cpu-prof`), or null. */
  readonly cpuProfDir: string | null;
  /** Extra Node/V8 flags for Switchyard. */
  readonly switchyardNodeFlags: readonly string[];
}

/** A smoke run (CI): no warm-up, no wrk, no repeats of disturbed runs, so it ends in about half a minute. */
const QUICK = { rounds: 1, durationSeconds: 2, warmupSeconds: 0, settleSeconds: 0, connections: 10, wrk: false, disturbedRetries: 0 };
const FULL = { rounds: 3, durationSeconds: 10, warmupSeconds: 3, settleSeconds: 5, connections: 50, wrk: true, disturbedRetries: 2 };
const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--duration SECONDS] [--connections N]
                        [--only=${TARGET_IDS.join(',')}]
                        [--profiles=${PROFILE_IDS.join(',')}] [--workers N] [--cpu-prof DIR] [--node-flags FLAGS] [--write-readme] [--readme FILE]

  --workers N   run Switchyard with \`workers: N\`; with N > 1 it is not pinned to the proxy CPU
                (its workers share every CPU with the load generator and the upstream)
  --cpu-prof DIR
                run Switchyard and the Node proxies under \`node --cpu-prof\`: DIR/<target>/*.cpuprofile,
                one per process, written when the run ends (a flame graph in Chrome DevTools or speedscope)
  --node-flags FLAGS
                extra Node/V8 flags for Switchyard, e.g. "--single-threaded-gc --max-semi-space-size=32"
`;

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      quick: { type: 'boolean' }, rounds: { type: 'string' }, duration: { type: 'string' },
      connections: { type: 'string' }, only: { type: 'string' }, 'write-readme': { type: 'boolean' },
      readme: { type: 'string' }, profiles: { type: 'string' }, workers: { type: 'string' }, 'cpu-prof': { type: 'string' }, 'node-flags': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const defaults = values.quick ? QUICK : FULL;
  const only = values.only?.split(',').map((id) => id.trim()).filter(Boolean) ?? [...TARGET_IDS];
  const unknown = only.filter((id) => !(TARGET_IDS as readonly string[]).includes(id));
  if (unknown.length > 0) throw new Error(`--only: unknown target(s) ${unknown.join(', ')}; known: ${TARGET_IDS.join(', ')}`);
  const profiles = values.profiles?.split(',').map((id) => id.trim()).filter(Boolean) ?? [...PROFILE_IDS];
  const unknownProfiles = profiles.filter((id) => !(PROFILE_IDS as readonly string[]).includes(id));
  if (unknownProfiles.length > 0) throw new Error(`--profiles: unknown profile(s) ${unknownProfiles.join(', ')}; known: ${PROFILE_IDS.join(', ')}`);
  if (profiles.length === 0) throw new Error(`--profiles: name at least one of ${PROFILE_IDS.join(', ')}`);
  // The fixed-rate profile drives each target at half of its GET rate: it needs the GET profile.
  if (profiles.includes('rate') && !profiles.includes('get')) throw new Error('--profiles: rate needs get (it runs at half of the GET rate)');
  return {
    rounds: positiveInteger('rounds', values.rounds, defaults.rounds),
    durationSeconds: positiveInteger('duration', values.duration, defaults.durationSeconds),
    warmupSeconds: defaults.warmupSeconds,
    settleSeconds: defaults.settleSeconds,
    connections: positiveInteger('connections', values.connections, defaults.connections),
    targets: TARGET_IDS.filter((id) => only.includes(id)),
    writeReadme: values['write-readme'] === true,
    readme: values.readme ?? join(ROOT, 'README.md'),
    wrk: defaults.wrk,
    disturbedRetries: defaults.disturbedRetries,
    profiles: PROFILE_IDS.filter((id) => profiles.includes(id)),
    switchyardWorkers: positiveInteger('workers', values.workers, 1),
    cpuProfDir: values['cpu-prof'] === undefined ? null : resolve(values['cpu-prof']),
    switchyardNodeFlags: values['node-flags']?.split(/\s+/).filter(Boolean) ?? [],
  };
}

/** Runs the bench end to end; resolves to the process exit code. */
async function main(options: BenchOptions): Promise<number> {
  const setup = beginRun(options.switchyardWorkers, options.targets.includes('switchyard'));
  try {
    return await measureAndReport(options, setup.placement, setup.dir);
  } finally {
    await stopAllChildren();
  }
}

async function measureAndReport(options: BenchOptions, placement: Placement, dir: string): Promise<number> {
  const { started, unavailable } = await startBenchTargets(options.targets, { dir, placement }, options);
  for (const { id, reason } of unavailable) log(`${TARGET_LABELS[id]}: not measured: ${reason}`);
  const wrk = options.wrk ? findExecutable('wrk') : null;
  const notes = [
    ...(options.wrk && wrk === null ? ['wrk is not installed: no (wrk) rows (apt-get install wrk).'] : []),
    ...(options.wrk ? [] : ['--quick: no warm-up and no (wrk) rows.']),
  ];
  notes.forEach((note) => log(note));
  const profiles = buildProfiles(wrk !== null).filter((profile) => options.profiles.includes(profile.id));
  // Full runs only: it adds two short probes per run, and a smoke run repeats nothing anyway.
  const probe = options.disturbedRetries > 0 ? new CpuProbe(placement.proxyCpu) : null;
  try {
    return await measureWith(new Session({ ...options, wrk, loadCpu: placement.loadCpu, dir, probe }, started, unavailable),
      options, placement, profiles, notes, started.map((target) => target.id), probe);
  } finally {
    probe?.stop();
  }
}

async function measureWith(session: Session, options: BenchOptions, placement: Placement, profiles: Profile[],
  notes: string[], targets: TargetId[], probe: CpuProbe | null): Promise<number> {
  await session.warmUp(profiles[0]);
  await session.measureThroughput(profiles.filter((profile) => profile.id !== 'rate'));
  const rateProfile = profiles.find((profile) => profile.id === 'rate');
  const getProfile = profiles.find((profile) => profile.id === 'get');
  if (rateProfile !== undefined && getProfile !== undefined) await session.measureAtHalfRate(rateProfile, getProfile);
  const table = renderTable({
    profiles, targets, unavailable: session.unavailable,
    measurement: (profile, target) => session.results.get(profile.id, target),
    directAtRateOf: (target) => session.results.get(directAtRateKey(target), 'direct'),
  });
  const speed = probe === null ? null : machineSpeedNote(probe.times, session.slowMachine);
  const report = renderReport(table, runFacts(options, placement,
    [...notes, otherLoadNote(session.otherLoadPercents), ...(speed === null ? [] : [speed])]));
  process.stdout.write(`${report}\n`);
  if (options.writeReadme && !writeReadmeBlock(options.readme, report)) {
    log(`warning: ${options.readme} does not exist; nothing written`);
  }
  return 0;
}

function runFacts(options: BenchOptions, placement: Placement, notes: string[]): RunFacts {
  const method = `${options.rounds} round(s) × ${options.durationSeconds} s per run, ${options.connections} connections, ` +
    `interleaved; medians over rounds, spread = min–max. Upstream: a bare node:http server; load: autocannon 9${options.wrk ? ' and wrk (one thread)' : ''}.`;
  return {
    ...machineFacts(placement), method,
    notes: [
      `"added p50 / p99 ms": latency over direct driven at the same fixed rate (half of the target's own max GET rate), requests paced evenly${options.settleSeconds > 0 ? `, measured after ${options.settleSeconds} s at that rate on the same connections` : ''}.`,
      '"proxy CPU": share of one core the target used while measured; near 100 % means the proxy, not the load side, was the limit.',
      ...notes,
    ],
  };
}

try {
  process.exitCode = await main(parseOptions(process.argv.slice(2)));
} catch (error) {
  log(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
}
