/**
 * What the bench entry points (`bench/run.ts`, `bench/soak.ts`) share: the repository root, parsing a
 * count option, and setting a run up the same way: a temp dir removed at exit, children stopped on
 * SIGINT/SIGTERM, this process pinned to the load CPU, the bench upstream, then the targets.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  detectPlacement, freePort, installExitHandlers, pinSelf, spawnChild, waitReady, type Placement,
} from './processes.ts';
import { log } from './session.ts';
import { startTargets, type StartedTarget, type TargetId, type UnavailableTarget } from './targets.ts';

/** The repository root. */
export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const READY_TIMEOUT_MS = 20_000;

/** A positive integer option (`--name text`), or `fallback` when it was not given. */
export function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}

/** Where a run's children run, and its temp dir (config files, logs). */
export interface RunSetup {
  readonly dir: string;
  readonly placement: Placement;
}

/**
 * Prepares a run: its temp dir (removed at exit), exit handlers that stop every child, and the
 * placement, with this process (the load generator) moved onto the load CPU.
 */
export function beginRun(switchyardWorkers: number, withSwitchyard: boolean): RunSetup {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  chmodSync(dir, 0o755);
  installExitHandlers(() => rmSync(dir, { recursive: true, force: true }));
  const placement = withSwitchyardWorkers(detectPlacement(), switchyardWorkers, withSwitchyard);
  pinSelf(placement);
  log(`placement: ${placement.description}`);
  return { dir, placement };
}

/**
 * Switchyard with several workers cannot be held to the one proxy CPU (its workers would share one
 * core): it runs unpinned, and the placement says so, since its workers then compete with the load
 * generator and the upstream for the same cores.
 */
function withSwitchyardWorkers(placement: Placement, workers: number, withSwitchyard: boolean): Placement {
  if (workers === 1 || !withSwitchyard) return placement;
  const where = placement.loadCpu === null ? 'on every CPU' : 'not pinned: on every CPU, CPU 0 shared with the load side';
  return { ...placement, description: `${placement.description}; switchyard with workers: ${workers}, ${where}` };
}

/** How the targets of a run are started. */
export interface TargetSettings {
  /** `workers:` of the Switchyard target. */
  readonly switchyardWorkers: number;
  /** Directory for V8 CPU profiles of Switchyard and the Node proxies, or null. */
  readonly cpuProfDir: string | null;
  /** Extra Node/V8 flags for Switchyard (tuning experiments: `--single-threaded-gc`, semi-space size). */
  readonly switchyardNodeFlags: readonly string[];
  /** A command the Node targets run under (valgrind), or none. */
  readonly wrapper?: readonly string[];
  /** How long a target may take to answer its readiness probe (default 20 s; far longer under valgrind). */
  readonly readyTimeoutMs?: number;
}

/** Starts the bench upstream, then the selected targets in front of it; each either answers or says why not. */
export async function startBenchTargets(
  ids: readonly TargetId[], setup: RunSetup, settings: TargetSettings,
): Promise<{ started: StartedTarget[]; unavailable: UnavailableTarget[] }> {
  const upstreamPort = await startUpstream(setup);
  return startTargets(ids, {
    root: ROOT, node: process.execPath, dir: setup.dir, placement: setup.placement, upstreamPort,
    readyTimeoutMs: READY_TIMEOUT_MS, ...settings,
  });
}

async function startUpstream({ placement, dir }: RunSetup): Promise<number> {
  const port = await freePort();
  const child = spawnChild({
    name: 'upstream', command: process.execPath, args: [join(ROOT, 'bench/upstream.ts'), '--port', String(port)],
    cpu: placement.loadCpu, logFile: join(dir, 'upstream.log'), ipc: true,
  });
  await waitReady(child, `http://127.0.0.1:${port}/healthz`, READY_TIMEOUT_MS);
  return port;
}
