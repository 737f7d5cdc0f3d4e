/**
 * The measuring loop of a bench run: warm-up, then rounds of every throughput profile over every live
 * target (the order rotating each round), then each target at half its own max GET rate next to direct
 * at the same rate. A target whose process dies is dropped and reported, never fatal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { QUIET_OTHER_LOAD_PERCENT, QUIET_WAIT_MAX_MS, startCpuMeter, waitForQuiet, type CpuUse } from './cpu.ts';
import { logSummary } from './processes.ts';
import type { Profile } from './profiles.ts';
import type { CpuProbe } from './cpu-probe.ts';
import { runAutocannon, type RunResult } from './load.ts';
import { median, type Measurement } from './report.ts';
import { TARGET_LABELS, type StartedTarget, type TargetId, type UnavailableTarget } from './targets.ts';
import { runWrk } from './wrk.ts';

/** How every run of a session is made. */
export interface SessionOptions {
  readonly rounds: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /**
   * Seconds each fixed-rate run sends before it measures, on the same connections. When a run's
   * connections replace the last run's, V8 drops optimised code that saw the old sockets close and
   * recompiles it once it is hot again (about 10,000 requests later); on a proxy pinned to one core those
   * compile jobs (5–22 ms each, traced 2026-12-07) take the core from the event loop, and the latency run
   * measured that instead of the gateway at half load.
   */
  readonly settleSeconds: number;
  readonly connections: number;
  /** The wrk executable, or null for no wrk profile. */
  readonly wrk: string | null;
  readonly loadCpu: number | null;
  /** The run's temp dir (wrk scripts and output). */
  readonly dir: string;
  /** How often a run disturbed by other processes is repeated (0: never, and no waiting for quiet). */
  readonly disturbedRetries: number;
  /** Times the machine at the proxy CPU before and after each run (a slow machine disturbs a run too), or null. */
  readonly probe: CpuProbe | null;
}

/** How long after a run the machine is left alone before the speed probe. */
const PROBE_SETTLE_MS = 1000;

/** The key under which direct's runs at `target`'s fixed rate are stored. */
export function directAtRateKey(target: TargetId): string {
  return `rate-direct-for-${target}`;
}

/** The measurements of one run, keyed by profile and target. */
export class Results {
  readonly #cells = new Map<string, Measurement>();

  /** The runs of `target` under `profileId` (a profile id, or the key of a comparison run). */
  get(profileId: string, target: TargetId): Measurement | undefined {
    return this.#cells.get(`${profileId}/${target}`);
  }

  /** Records one run and the target's CPU use during it. */
  add(profileId: string, target: TargetId, result: RunResult, cpuPercent: number | null): void {
    const key = `${profileId}/${target}`;
    const cell = this.#cells.get(key) ?? { runs: [], cpuPercents: [] };
    cell.runs.push(result);
    if (cpuPercent !== null) cell.cpuPercents.push(cpuPercent);
    this.#cells.set(key, cell);
  }
}

/** The measuring loop over live targets; a target that dies mid-run is dropped and reported. */
export class Session {
  readonly results = new Results();
  /** Per measured run: percent of one core used by processes outside this bench (noise). */
  readonly otherLoadPercents: number[] = [];
  /** Runs repeated because the machine was slow, and runs kept slow once the repeats were used up. */
  readonly slowMachine = { repeated: 0, kept: 0 };
  readonly unavailable: UnavailableTarget[];
  #live: StartedTarget[];
  #runNumber = 0;
  readonly #options: SessionOptions;

  constructor(options: SessionOptions, started: readonly StartedTarget[], unavailable: readonly UnavailableTarget[]) {
    this.#options = options;
    this.#live = [...started];
    this.unavailable = [...unavailable];
  }

  /** One unmeasured run per target, so every process is warm (JIT, pools) before round 1. */
  async warmUp(profile: Profile): Promise<void> {
    if (this.#options.warmupSeconds === 0) return;
    // The probe's first loops include its own JIT warm-up: not a measure of the CPU.
    if (this.#options.probe !== null) for (let i = 0; i < 3; i++) await this.#options.probe.measure();
    this.#options.probe?.times.splice(0);
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
          const comparison = `${progress} (direct at ${TARGET_LABELS[target.id]}'s rate)`;
          await this.#measure(profile, directAtRateKey(target.id), direct, halfRate, comparison);
        }
      }
    }
  }

  /**
   * One measured run. On a shared machine it first waits (bounded) for other load to calm down, and a run
   * that other processes disturbed anyway is repeated up to `disturbedRetries` times.
   */
  async #measure(
    profile: Profile, key: string, target: StartedTarget, rate: number | undefined, progress: string,
  ): Promise<void> {
    const name = `${progress} ${profile.label} · ${TARGET_LABELS[target.id]}`;
    for (let attempt = 0; attempt <= this.#options.disturbedRetries && this.#live.includes(target); attempt++) {
      if (this.#options.disturbedRetries > 0 && !(await waitForQuiet())) {
        log(`the machine stayed busy for ${QUIET_WAIT_MAX_MS / 1000} s; measuring anyway`);
      }
      const probe = this.#options.disturbedRetries > 0 ? this.#options.probe : null;
      const probedBefore = await probe?.measure();
      const stopMeter = startCpuMeter(target.child?.pid ?? null);
      try {
        const result = await this.#send(profile, target, this.#options.durationSeconds, rate);
        const cpu = stopMeter();
        // The target winds down first (closing connections, a collection), so it is not probing itself.
        if (probe !== null) await sleep(PROBE_SETTLE_MS);
        const probedMs = probe === null ? undefined
          : Math.max(probedBefore!.roundTripsMs, (await probe.measure()).roundTripsMs);
        const slow = probe !== null && probe.isSlow(probedMs!);
        const disturbed = cpu.otherPercent !== null && cpu.otherPercent > QUIET_OTHER_LOAD_PERCENT;
        const retriesLeft = attempt < this.#options.disturbedRetries && this.#live.includes(target);
        if (disturbed && retriesLeft) {
          log(`${name}: disturbed (other load ${Math.round(cpu.otherPercent!)} %), repeating`);
          continue;
        }
        if (slow && retriesLeft) {
          this.slowMachine.repeated++;
          log(`${name}: the machine was slow (loopback probe ${probedMs!.toFixed(0)} ms, best ${probe.bestRoundTripsMs.toFixed(0)} ms), repeating`);
          continue;
        }
        if (slow) this.slowMachine.kept++;
        this.results.add(key, target.id, result, cpu.targetPercent);
        if (cpu.otherPercent !== null) this.otherLoadPercents.push(cpu.otherPercent);
        log(`${name}: ${describe(result, cpu, rate)}`);
        return;
      } catch (error) {
        log(`${name}: run failed: ${(error as Error).message}`);
        return;
      } finally {
        this.#dropIfExited(target);
      }
    }
  }

  #send(profile: Profile, target: StartedTarget, durationSeconds: number, overallRate?: number): Promise<RunResult> {
    const { connections, wrk, loadCpu, dir } = this.#options;
    if (profile.tool === 'wrk' && wrk !== null) {
      return runWrk({ wrk, url: target.url, requests: profile.requests, connections, durationSeconds, cpu: loadCpu, dir });
    }
    const title = `${TARGET_LABELS[target.id]} · ${profile.label}`;
    const settleSeconds = overallRate === undefined ? 0 : this.#options.settleSeconds;
    return runAutocannon({ url: target.url, requests: profile.requests, connections, durationSeconds, overallRate, settleSeconds, title });
  }

  #dropIfExited(target: StartedTarget): void {
    if (target.child?.exit == null) return;
    this.#live = this.#live.filter((live) => live !== target);
    const { code, signal } = target.child.exit;
    this.unavailable.push({ id: target.id, reason: `exited during the run (${code ?? signal}): ${logSummary(target.child.logFile)}` });
    log(`${TARGET_LABELS[target.id]} exited (${code ?? signal}); dropped from the remaining runs`);
  }
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function describe(result: RunResult, cpu: CpuUse, rate: number | undefined): string {
  const parts = [
    `${Math.round(result.requestsPerSecond).toLocaleString('en-US')} req/s${rate === undefined ? '' : ` (asked ${rate})`}`,
    `p50 ${result.p50Ms.toFixed(2)} ms`, `p99 ${result.p99Ms.toFixed(2)} ms`,
  ];
  if (cpu.targetPercent !== null) parts.push(`CPU ${Math.round(cpu.targetPercent)} %`);
  if (cpu.otherPercent !== null) parts.push(`other load ${Math.round(cpu.otherPercent)} %`);
  if (result.failures > 0) parts.push(`${result.failures} failed`);
  return parts.join(' · ');
}

/** Writes one progress line on stderr. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}
