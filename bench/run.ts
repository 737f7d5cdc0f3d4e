/**
 * `npm run bench`: starts the bench upstream and every selected target as pinned child processes, then
 * measures them interleaved over several rounds (throughput profiles first, then each target at half its
 * own max GET rate next to direct at the same rate), prints the markdown table on stdout and optionally
 * publishes it in README.md. Progress goes to stderr. Every child is stopped at the end, on SIGINT and
 * on errors.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  detectPlacement, findExecutable, freePort, installExitHandlers, pinSelf, spawnChild, stopAllChildren, waitReady,
  type Placement,
} from './processes.ts';
import { buildProfiles, PROFILE_IDS, type ProfileId } from './profiles.ts';
import { median, renderReport, renderTable, writeReadmeBlock, type RunFacts } from './report.ts';
import { QUIET_OTHER_LOAD_PERCENT } from './cpu.ts';
import { directAtRateKey, log, Session } from './session.ts';
import { startTargets, TARGET_IDS, TARGET_LABELS, type TargetId } from './targets.ts';

/** The run's settings, from the command line. */
interface BenchOptions {
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
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
}

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const READY_TIMEOUT_MS = 20_000;
/** A smoke run (CI): no warm-up, no wrk, no repeats of disturbed runs, so it ends in about half a minute. */
const QUICK = { rounds: 1, durationSeconds: 2, warmupSeconds: 0, connections: 10, wrk: false, disturbedRetries: 0 };
const FULL = { rounds: 3, durationSeconds: 10, warmupSeconds: 3, connections: 50, wrk: true, disturbedRetries: 2 };
const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--duration SECONDS] [--connections N]
                        [--only=${TARGET_IDS.join(',')}]
                        [--profiles=${PROFILE_IDS.join(',')}] [--workers N] [--cpu-prof DIR] [--write-readme] [--readme FILE]

  --workers N   run Switchyard with \`workers: N\`; with N > 1 it is not pinned to the proxy CPU
                (its workers share every CPU with the load generator and the upstream)
  --cpu-prof DIR
                run Switchyard and the Node proxies under \`node --cpu-prof\`: DIR/<target>/*.cpuprofile,
                one per process, written when the run ends (a flame graph in Chrome DevTools or speedscope)
`;

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      quick: { type: 'boolean' }, rounds: { type: 'string' }, duration: { type: 'string' },
      connections: { type: 'string' }, only: { type: 'string' }, 'write-readme': { type: 'boolean' },
      readme: { type: 'string' }, profiles: { type: 'string' }, workers: { type: 'string' }, 'cpu-prof': { type: 'string' }, help: { type: 'boolean', short: 'h' },
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
    rounds: positive('rounds', values.rounds, defaults.rounds),
    durationSeconds: positive('duration', values.duration, defaults.durationSeconds),
    warmupSeconds: defaults.warmupSeconds,
    connections: positive('connections', values.connections, defaults.connections),
    targets: TARGET_IDS.filter((id) => only.includes(id)),
    writeReadme: values['write-readme'] === true,
    readme: values.readme ?? join(ROOT, 'README.md'),
    wrk: defaults.wrk,
    disturbedRetries: defaults.disturbedRetries,
    profiles: PROFILE_IDS.filter((id) => profiles.includes(id)),
    switchyardWorkers: positive('workers', values.workers, 1),
    cpuProfDir: values['cpu-prof'] === undefined ? null : resolve(values['cpu-prof']),
  };
}

/** Runs the bench end to end; resolves to the process exit code. */
async function main(options: BenchOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  chmodSync(dir, 0o755);
  installExitHandlers(() => rmSync(dir, { recursive: true, force: true }));
  const placement = withSwitchyardWorkers(detectPlacement(), options);
  pinSelf(placement);
  log(`placement: ${placement.description}`);
  try {
    return await measureAndReport(options, placement, dir);
  } finally {
    await stopAllChildren();
  }
}

async function measureAndReport(options: BenchOptions, placement: Placement, dir: string): Promise<number> {
  const upstreamPort = await startUpstream(placement, dir);
  const context = {
    root: ROOT, node: process.execPath, dir, placement, upstreamPort, readyTimeoutMs: READY_TIMEOUT_MS,
    switchyardWorkers: options.switchyardWorkers, cpuProfDir: options.cpuProfDir,
  };
  const { started, unavailable } = await startTargets(options.targets, context);
  for (const { id, reason } of unavailable) log(`${TARGET_LABELS[id]}: not measured: ${reason}`);
  const wrk = options.wrk ? findExecutable('wrk') : null;
  const notes = [
    ...(options.wrk && wrk === null ? ['wrk is not installed: no (wrk) rows (apt-get install wrk).'] : []),
    ...(options.wrk ? [] : ['--quick: no warm-up and no (wrk) rows.']),
  ];
  notes.forEach((note) => log(note));
  const profiles = buildProfiles(wrk !== null).filter((profile) => options.profiles.includes(profile.id));
  const session = new Session({ ...options, wrk, loadCpu: placement.loadCpu, dir }, started, unavailable);
  await session.warmUp(profiles[0]);
  await session.measureThroughput(profiles.filter((profile) => profile.id !== 'rate'));
  const rateProfile = profiles.find((profile) => profile.id === 'rate');
  const getProfile = profiles.find((profile) => profile.id === 'get');
  if (rateProfile !== undefined && getProfile !== undefined) await session.measureAtHalfRate(rateProfile, getProfile);
  const table = renderTable({
    profiles, targets: started.map((target) => target.id), unavailable: session.unavailable,
    measurement: (profile, target) => session.results.get(profile.id, target),
    directAtRateOf: (target) => session.results.get(directAtRateKey(target), 'direct'),
  });
  const report = renderReport(table, runFacts(options, placement, [...notes, otherLoadNote(session.otherLoadPercents)]));
  process.stdout.write(`${report}\n`);
  if (options.writeReadme && !writeReadmeBlock(options.readme, report)) {
    log(`warning: ${options.readme} does not exist; nothing written`);
  }
  return 0;
}

/**
 * Switchyard with several workers cannot be held to the one proxy CPU (its workers would share one
 * core): it runs unpinned, and the placement says so, since its workers then compete with the load
 * generator and the upstream for the same cores.
 */
function withSwitchyardWorkers(placement: Placement, options: BenchOptions): Placement {
  if (options.switchyardWorkers === 1 || !options.targets.includes('switchyard')) return placement;
  const where = placement.loadCpu === null ? 'on every CPU' : 'not pinned: on every CPU, CPU 0 shared with the load side';
  return { ...placement, description: `${placement.description}; switchyard with workers: ${options.switchyardWorkers}, ${where}` };
}

async function startUpstream(placement: Placement, dir: string): Promise<number> {
  const port = await freePort();
  const child = spawnChild({
    name: 'upstream', command: process.execPath, args: [join(ROOT, 'bench/upstream.ts'), '--port', String(port)],
    cpu: placement.loadCpu, logFile: join(dir, 'upstream.log'), ipc: true,
  });
  await waitReady(child, `http://127.0.0.1:${port}/healthz`, READY_TIMEOUT_MS);
  return port;
}

function otherLoadNote(percents: readonly number[]): string {
  if (percents.length === 0) return 'Other load on the machine was not measured (no /proc).';
  const typical = `Other processes used a median ${Math.round(median(percents))} % of a core per run`;
  const disturbed = percents.filter((percent) => percent > QUIET_OTHER_LOAD_PERCENT);
  if (disturbed.length === 0) return `${typical}: quiet machine.`;
  return `${typical}; ⚠ ${disturbed.length} of ${percents.length} runs were disturbed by more than ` +
    `${QUIET_OTHER_LOAD_PERCENT} % (worst ${Math.round(Math.max(...disturbed))} %): treat their rows with care.`;
}

function runFacts(options: BenchOptions, placement: Placement, notes: string[]): RunFacts {
  const method = `${options.rounds} round(s) × ${options.durationSeconds} s per run, ${options.connections} connections, ` +
    `interleaved; medians over rounds, spread = min–max. Upstream: a bare node:http server; load: autocannon 9${options.wrk ? ' and wrk (one thread)' : ''}.`;
  return {
    date: new Date().toISOString().slice(0, 10), node: process.version, cpuModel: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length, placement: placement.description, method,
    notes: [
      '"added p50 / p99 ms": latency over direct driven at the same fixed rate (half of the target\'s own max GET rate), requests paced evenly.',
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
