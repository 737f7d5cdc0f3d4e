/**
 * `npm run bench:instructions`: the instructions each Node proxy executes per request, counted with
 * valgrind's callgrind (bench/callgrind.ts), for the throughput profiles. The same build, inputs and
 * counts give the same numbers however busy the machine is, so a change of a few percent on the hot
 * path can be judged here when `npm run bench` cannot resolve it.
 *
 * For each target × profile: one proxy process under callgrind with counting off, a closed-loop warm-up
 * (by then V8 has mostly optimised the hot path), counting switched on for the measured requests, dumped,
 * switched off. The upstream and the load generator run natively; only the proxy is counted. NGINX is
 * not a target: its worker is a forked process with no JIT to warm, and the comparison that matters
 * here is between the Node proxies, whose per-request work differs only in JavaScript.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { callgrindCommand, dumpCounts, readDump, setCounting } from './callgrind.ts';
import { COUNTED_PROFILES, COUNTED_TARGETS, renderInstructionTable, thousands, type Count, type CountedProfile, type CountedTarget } from './instructions-table.ts';
import { positiveInteger, ROOT, startBenchTargets } from './harness.ts';
import { findExecutable, installExitHandlers, runCommand, stopChild, type Placement } from './processes.ts';
import { buildProfiles, type LoadRequest } from './profiles.ts';
import { machineFacts, writeReadmeBlock, type ReadmeMarkers } from './report.ts';
import { log } from './session.ts';
import { TARGET_LABELS, type StartedTarget } from './targets.ts';

interface Options {
  readonly targets: readonly CountedTarget[];
  readonly profiles: readonly CountedProfile[];
  readonly warmup: number;
  readonly count: number;
  readonly connections: number;
  readonly parallel: number;
  readonly repeat: number;
  /** README to put the table in (between the instructions markers), or null. */
  readonly readme: string | null;
}

/**
 * Full: V8 still compiles hot functions after 30,000 requests under valgrind; by 80,000 it has mostly
 * settled. Two processes each: a late deoptimisation (a background loop's first real data changing an
 * object's shape, say) can land in one count window and add tens of percent to it.
 */
const FULL = { warmup: 80_000, count: 10_000, repeat: 2 };
/** A smoke run: the numbers include the JIT's warm-up and mean little. */
const QUICK = { warmup: 1_000, count: 200, repeat: 1 };
/** The README block `--write-readme` fills. */
const INSTRUCTION_MARKERS: ReadmeMarkers = { start: '<!-- instructions:start -->', end: '<!-- instructions:end -->' };
/** valgrind starts a Node process in tens of seconds, Switchyard (config, geo database) in more. */
const READY_TIMEOUT_MS = 180_000;
const USAGE = `usage: npm run bench:instructions -- [--quick] [--only=${COUNTED_TARGETS.join(',')}]
                          [--profiles=${COUNTED_PROFILES.join(',')}] [--warmup N] [--count N] [--repeat N] [--connections N] [--parallel N]
                          [--write-readme]

  Counts instructions per request with valgrind's callgrind (valgrind must be installed).
  --warmup N     requests before counting starts (default ${FULL.warmup})
  --count N      requests counted (default ${FULL.count})
  --repeat N     processes counted per target and profile; the table gives the lowest and the spread (default ${FULL.repeat})
  --parallel N   target processes counted at the same time (default 2; counts do not depend on it)
  --write-readme put the table in README.md (between ${INSTRUCTION_MARKERS.start} and its end marker)
`;

function listOption<T extends string>(name: string, text: string | undefined, allowed: readonly T[]): readonly T[] {
  if (text === undefined) return allowed;
  const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  const unknown = items.filter((item) => !allowed.includes(item as T));
  if (unknown.length > 0 || items.length === 0) throw new Error(`--${name}: expected some of ${allowed.join(',')}, got ${text}`);
  return allowed.filter((item) => items.includes(item));
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      quick: { type: 'boolean' }, only: { type: 'string' }, profiles: { type: 'string' }, warmup: { type: 'string' },
      count: { type: 'string' }, repeat: { type: 'string' }, connections: { type: 'string' }, parallel: { type: 'string' },
      'write-readme': { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const defaults = values.quick === true ? QUICK : FULL;
  return {
    targets: listOption('only', values.only, COUNTED_TARGETS),
    profiles: listOption('profiles', values.profiles, COUNTED_PROFILES),
    warmup: positiveInteger('warmup', values.warmup, defaults.warmup),
    count: positiveInteger('count', values.count, defaults.count),
    connections: positiveInteger('connections', values.connections, 10),
    parallel: positiveInteger('parallel', values.parallel, 2),
    repeat: positiveInteger('repeat', values.repeat, defaults.repeat),
    readme: values['write-readme'] === true ? join(ROOT, 'README.md') : null,
  };
}

/** Sends `total` requests over `connections` keep-alive connections, each waiting for its answer. */
async function drive(url: string, requests: readonly LoadRequest[], total: number, connections: number): Promise<number> {
  const pool = new Pool(url, { connections, pipelining: 1 });
  let sent = 0;
  let failed = 0;
  const connection = async () => {
    while (sent < total) {
      const request = requests[sent++ % requests.length];
      const response = await pool.request({
        method: request.method as 'GET', path: request.path, headers: request.headers, body: request.body ?? null,
      });
      await response.body.dump();
      if (response.statusCode < 200 || response.statusCode > 299) failed++;
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, connection));
  } finally {
    await pool.close();
  }
  return failed;
}

/** One target × profile: its own process under callgrind, warmed up, then counted. */
async function countOne(target: CountedTarget, profile: CountedProfile, options: Options, placement: Placement): Promise<Count> {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-instructions-${target}-`));
  try {
    const { started, unavailable } = await startBenchTargets([target], { dir, placement }, {
      switchyardWorkers: 1, cpuProfDir: null, switchyardNodeFlags: [], wrapper: callgrindCommand(dir), readyTimeoutMs: READY_TIMEOUT_MS,
    });
    if (unavailable.length > 0) throw new Error(`${target}: ${unavailable[0].reason}`);
    const proxy = started.find((t): t is StartedTarget & { child: NonNullable<StartedTarget['child']> } => t.id === target && t.child !== null)!;
    const requests = buildProfiles(false).find((p) => p.id === profile)!.requests;
    log(`${TARGET_LABELS[target]} · ${profile}: warming up (${options.warmup} requests)`);
    const warmFailed = await drive(proxy.url, requests, options.warmup, options.connections);
    setCounting(proxy.child.pid, true);
    log(`${TARGET_LABELS[target]} · ${profile}: counting ${options.count} requests`);
    const failed = await drive(proxy.url, requests, options.count, options.connections);
    dumpCounts(proxy.child.pid);
    setCounting(proxy.child.pid, false);
    for (const child of started) if (child.child !== null) await stopChild(child.child);
    return { target, profile, requests: options.count, failed: failed + warmFailed, ...readDump(dir, proxy.child.pid) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `jobs` with at most `parallel` at a time, keeping their order in the result. */
async function inBatches<T>(jobs: readonly (() => Promise<T>)[], parallel: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return results;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (findExecutable('valgrind') === null || findExecutable('callgrind_control') === null) {
    throw new Error('valgrind is not installed (apt-get install valgrind)');
  }
  installExitHandlers(() => {});
  // Counts do not depend on placement; unpinned, two counted processes use both cores.
  const placement: Placement = { loadCpu: null, proxyCpu: null, description: 'unpinned (instruction counts do not depend on placement)' };
  const jobs = options.profiles.flatMap((profile) => options.targets.flatMap((target) =>
    Array.from({ length: options.repeat }, () => () => countOne(target, profile, options, placement))));
  const counts = await inBatches(jobs, options.parallel);
  const facts = machineFacts(placement);
  const report = `${renderInstructionTable(counts)}\n\n`
    + `Instructions counted by valgrind's callgrind in the proxy process (all threads; the main thread is the request path), `
    + `per request over ${thousands(options.count)} requests after ${thousands(options.warmup)} of warm-up, ${options.connections} connections, `
    + `the lowest of ${options.repeat} process${options.repeat === 1 ? '' : 'es'} (spread: lowest–highest); `
    + `${facts.date}, Node ${facts.node}, ${facts.cpuModel}. User-space instructions only: the kernel's share of each request is not in them. `
    + `Lower is better.`;
  process.stdout.write(`${report}\n`);
  if (options.readme !== null && writeReadmeBlock(options.readme, report, INSTRUCTION_MARKERS)) log(`table written to ${options.readme}`);
}

await runCommand('bench:instructions', main);
