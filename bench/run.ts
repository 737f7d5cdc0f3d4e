/**
 * `npm run bench`: starts the bench upstream and every selected target as pinned child processes, then
 * measures them interleaved over several rounds (throughput profiles first, then each target at half its
 * own max GET rate next to direct at the same rate), prints the markdown table on stdout and optionally
 * publishes it in README.md. Progress goes to stderr. Every child is stopped at the end, on SIGINT and
 * on errors.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runAutocannon, type RunResult } from './load.ts';
import {
  detectPlacement, findExecutable, freePort, groupCpuSeconds, installExitHandlers, pinSelf, spawnChild,
  stopAllChildren, waitReady, type Placement,
} from './processes.ts';
import { buildProfiles, type Profile } from './profiles.ts';
import { median, renderReport, renderTable, writeReadmeBlock, type Measurement } from './report.ts';
import { startTargets, TARGET_IDS, TARGET_LABELS, type StartedTarget, type TargetId, type UnavailableTarget } from './targets.ts';
import { runWrk } from './wrk.ts';

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
}

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const READY_TIMEOUT_MS = 20_000;
/** A smoke run (CI): no warm-up and no wrk, so it ends in about half a minute. */
const QUICK = { rounds: 1, durationSeconds: 2, warmupSeconds: 0, connections: 10, wrk: false };
const FULL = { rounds: 3, durationSeconds: 10, warmupSeconds: 3, connections: 50, wrk: true };
const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--duration SECONDS] [--connections N]
                        [--only=${TARGET_IDS.join(',')}] [--write-readme] [--readme FILE]
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
      readme: { type: 'string' }, help: { type: 'boolean', short: 'h' },
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
  return {
    rounds: positive('rounds', values.rounds, defaults.rounds),
    durationSeconds: positive('duration', values.duration, defaults.durationSeconds),
    warmupSeconds: defaults.warmupSeconds,
    connections: positive('connections', values.connections, defaults.connections),
    targets: TARGET_IDS.filter((id) => only.includes(id)),
    writeReadme: values['write-readme'] === true,
    readme: values.readme ?? join(ROOT, 'README.md'),
    wrk: defaults.wrk,
  };
}

/** The measurements of one run, keyed by profile and target. */
class Results {
  readonly #cells = new Map<string, Measurement>();
  get(profileId: string, target: TargetId): Measurement | undefined {
    return this.#cells.get(`${profileId}/${target}`);
  }
  add(profileId: string, target: TargetId, result: RunResult, cpuPercent: number | null): void {
    const key = `${profileId}/${target}`;
    const cell = this.#cells.get(key) ?? { runs: [], cpuPercents: [] };
    cell.runs.push(result);
    if (cpuPercent !== null) cell.cpuPercents.push(cpuPercent);
    this.#cells.set(key, cell);
  }
}

/** Runs the bench end to end; resolves to the process exit code. */
async function main(options: BenchOptions): Promise<number> {
  installExitHandlers();
  const placement = detectPlacement();
  pinSelf(placement);
  log(`placement: ${placement.description}`);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  chmodSync(dir, 0o755);
  try {
    return await measureAndReport(options, placement, dir);
  } finally {
    await stopAllChildren();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureAndReport(options: BenchOptions, placement: Placement, dir: string): Promise<number> {
  const upstreamPort = await startUpstream(placement, dir);
  const context = { root: ROOT, node: process.execPath, dir, placement, upstreamPort, readyTimeoutMs: READY_TIMEOUT_MS };
  const { started, unavailable } = await startTargets(options.targets, context);
  for (const { id, reason } of unavailable) log(`${TARGET_LABELS[id]}: not measured: ${reason}`);
  const wrk = options.wrk ? findExecutable('wrk') : null;
  const notes = [
    ...(options.wrk && wrk === null ? ['wrk is not installed: no (wrk) rows (apt-get install wrk).'] : []),
    ...(options.wrk ? [] : ['--quick: no warm-up and no (wrk) rows.']),
  ];
  notes.forEach((note) => log(note));
  const profiles = buildProfiles(wrk !== null);
  const session = new Session(options, placement, dir, wrk, started, unavailable);
  await session.warmUp(profiles[0]);
  await session.measureThroughput(profiles.filter((profile) => profile.id !== 'rate'));
  const rateProfile = profiles.find((profile) => profile.id === 'rate');
  if (rateProfile !== undefined) await session.measureAtHalfRate(rateProfile, profiles[0]);
  const table = renderTable({
    profiles, targets: started.map((target) => target.id), unavailable: session.unavailable,
    measurement: (profile, target) => session.results.get(profile.id, target),
    directAtRateOf: (target) => session.results.get(`rate-direct-for-${target}`, 'direct'),
  });
  const report = renderReport(table, runFacts(options, placement, notes));
  process.stdout.write(`${report}\n`);
  if (options.writeReadme && !writeReadmeBlock(options.readme, report)) {
    log(`warning: ${options.readme} does not exist; nothing written`);
  }
  return 0;
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

/** The measuring loop over live targets; a target that dies mid-run is dropped and reported. */
class Session {
  readonly results = new Results();
  readonly unavailable: UnavailableTarget[];
  #live: StartedTarget[];
  #runNumber = 0;
  readonly #options: BenchOptions;
  readonly #placement: Placement;
  readonly #dir: string;
  readonly #wrk: string | null;

  constructor(options: BenchOptions, placement: Placement, dir: string, wrk: string | null,
    started: StartedTarget[], unavailable: UnavailableTarget[]) {
    this.#options = options;
    this.#placement = placement;
    this.#dir = dir;
    this.#wrk = wrk;
    this.#live = [...started];
    this.unavailable = [...unavailable];
  }

  /** One unmeasured run per target, so every process is warm (JIT, pools) before round 1. */
  async warmUp(profile: Profile): Promise<void> {
    if (this.#options.warmupSeconds === 0) return;
    for (const target of this.#live) {
      log(`warm-up · ${TARGET_LABELS[target.id]}`);
      await this.#send(profile, target, this.#options.warmupSeconds);
    }
  }

  /** Rounds × profiles × targets, the target order rotating every round. */
  async measureThroughput(profiles: readonly Profile[]): Promise<void> {
    const total = this.#options.rounds * profiles.length * this.#live.length;
    for (let round = 0; round < this.#options.rounds; round++) {
      for (const profile of profiles) {
        for (const target of rotate(this.#live, round)) {
          const progress = `[${++this.#runNumber}/${total}] round ${round + 1}/${this.#options.rounds}`;
          await this.#measure(profile, profile.id, target, undefined, progress);
        }
      }
    }
  }

  /** Each target at half its median GET rate, next to direct driven at that same rate. */
  async measureAtHalfRate(profile: Profile, getProfile: Profile): Promise<void> {
    const direct = this.#live.find((target) => target.id === 'direct');
    for (let round = 0; round < this.#options.rounds; round++) {
      for (const target of rotate(this.#live, round)) {
        const runs = this.results.get(getProfile.id, target.id)?.runs ?? [];
        const halfRate = Math.round(median(runs.map((run) => run.requestsPerSecond)) / 2);
        if (!(halfRate >= 1)) continue;
        const progress = `[rate] round ${round + 1}/${this.#options.rounds}`;
        await this.#measure(profile, profile.id, target, halfRate, progress);
        if (direct !== undefined && target !== direct && this.#live.includes(direct)) {
          await this.#measure(profile, `rate-direct-for-${target.id}`, direct, halfRate, `${progress} direct at ${TARGET_LABELS[target.id]}'s rate ·`);
        }
      }
    }
  }

  async #measure(profile: Profile, key: string, target: StartedTarget, rate: number | undefined, progress: string): Promise<void> {
    if (!this.#live.includes(target)) return;
    const cpuBefore = target.child === null ? null : groupCpuSeconds(target.child.pid);
    const startedMs = Date.now();
    try {
      const result = await this.#send(profile, target, this.#options.durationSeconds, rate);
      const cpuAfter = target.child === null ? null : groupCpuSeconds(target.child.pid);
      const cpuPercent = cpuBefore === null || cpuAfter === null ? null : (100 * (cpuAfter - cpuBefore)) / ((Date.now() - startedMs) / 1000);
      this.results.add(key, target.id, result, cpuPercent);
      log(`${progress} ${profile.label} · ${TARGET_LABELS[target.id]}: ${describe(result, cpuPercent, rate)}`);
    } catch (error) {
      log(`${progress} ${profile.label} · ${TARGET_LABELS[target.id]}: run failed: ${(error as Error).message}`);
    }
    this.#dropIfExited(target);
  }

  #send(profile: Profile, target: StartedTarget, durationSeconds: number, overallRate?: number): Promise<RunResult> {
    const { connections } = this.#options;
    if (profile.tool === 'wrk' && this.#wrk !== null) {
      return runWrk({
        wrk: this.#wrk, url: target.url, requests: profile.requests, connections, durationSeconds,
        cpu: this.#placement.loadCpu, dir: this.#dir,
      });
    }
    const title = `${TARGET_LABELS[target.id]} · ${profile.label}`;
    return runAutocannon({ url: target.url, requests: profile.requests, connections, durationSeconds, overallRate, title });
  }

  #dropIfExited(target: StartedTarget): void {
    if (target.child?.exit == null) return;
    this.#live = this.#live.filter((live) => live !== target);
    const { code, signal } = target.child.exit;
    this.unavailable.push({ id: target.id, reason: `exited during the run (${code ?? signal}); see its log` });
    log(`${TARGET_LABELS[target.id]} exited (${code ?? signal}); dropped from the remaining runs`);
  }
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function describe(result: RunResult, cpuPercent: number | null, rate: number | undefined): string {
  const parts = [
    `${Math.round(result.requestsPerSecond).toLocaleString('en-US')} req/s${rate === undefined ? '' : ` (asked ${rate})`}`,
    `p50 ${result.p50Ms.toFixed(2)} ms`, `p99 ${result.p99Ms.toFixed(2)} ms`,
  ];
  if (cpuPercent !== null) parts.push(`CPU ${Math.round(cpuPercent)} %`);
  if (result.failures > 0) parts.push(`${result.failures} failed`);
  return parts.join(' · ');
}

function runFacts(options: BenchOptions, placement: Placement, notes: string[]): Parameters<typeof renderReport>[1] {
  const method = `${options.rounds} round(s) × ${options.durationSeconds} s per run, ${options.connections} connections, ` +
    'interleaved; medians over rounds, spread = min–max. Upstream: a bare node:http server; load: autocannon 9 (and wrk, one thread).';
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

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

try {
  process.exitCode = await main(parseOptions(process.argv.slice(2)));
} catch (error) {
  log(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
}
