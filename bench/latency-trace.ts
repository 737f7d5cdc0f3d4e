/**
 * `npm run bench:trace`: where a target's slowest requests at a fixed rate come from. Starts the bench
 * upstream and one target with a probe preloaded (bench/trace-probe.mjs: its garbage collections and
 * event-loop stalls, wall-clock stamped), drives direct and then the target with paced GETs (settling
 * first, as the bench's latency run does), and prints the target's slow requests (at or above its p99)
 * grouped into episodes, each with what the target was doing at the time. The probe's 2 ms timer costs
 * the target a little CPU; compare runs of this tool with each other, not with `npm run bench`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { beginRun, positiveInteger, ROOT, startBenchTargets } from './harness.ts';
import { runAutocannon } from './load.ts';
import { runCommand, stopAllChildren } from './processes.ts';
import { buildProfiles } from './profiles.ts';
import { log } from './session.ts';
import { TARGET_LABELS, type TargetId } from './targets.ts';
import {
  eventTotals, overlapShare, quantile, renderEpisodes, slowEpisodes, type ProcessEvent, type TracedResponse,
} from './trace-report.ts';

const TRACEABLE: readonly TargetId[] = ['switchyard', 'bare', 'fastify-http-proxy'];
const CONNECTIONS = 50;
/** The probe writes every 500 ms. */
const PROBE_FLUSH_WAIT_MS = 1200;
const USAGE = `usage: npm run bench:trace -- [--target ${TRACEABLE.join('|')}] [--rate N] [--duration SECONDS]
                              [--settle SECONDS] [--episodes N]
`;

interface TraceOptions {
  readonly target: TargetId;
  readonly rate: number;
  readonly durationSeconds: number;
  readonly settleSeconds: number;
  readonly episodes: number;
}

function parseOptions(argv: string[]): TraceOptions {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      target: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' }, settle: { type: 'string' },
      episodes: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const target = (values.target ?? 'switchyard') as TargetId;
  if (!TRACEABLE.includes(target)) throw new Error(`--target: one of ${TRACEABLE.join(', ')}, got ${values.target}`);
  return {
    target,
    rate: positiveInteger('rate', values.rate, 5000),
    durationSeconds: positiveInteger('duration', values.duration, 10),
    settleSeconds: values.settle === '0' ? 0 : positiveInteger('settle', values.settle, 5),
    episodes: positiveInteger('episodes', values.episodes, 10),
  };
}

/** The paced GET run: every measured response, by send time. */
async function pacedRun(url: string, options: TraceOptions, title: string): Promise<TracedResponse[]> {
  const responses: TracedResponse[] = [];
  const result = await runAutocannon({
    url, requests: buildProfiles(false)[0].requests, connections: CONNECTIONS, durationSeconds: options.durationSeconds,
    settleSeconds: options.settleSeconds, overallRate: options.rate, title, progressBar: false,
    onResponse: (sentAtMs, latencyMs) => responses.push({ sentAtMs, latencyMs }),
  });
  if (result.failures > 0) log(`${title}: ${result.failures} failed requests`);
  return responses;
}

function readProbe(dir: string, pid: number): ProcessEvent[] {
  try {
    return readFileSync(join(dir, `trace-${pid}.jsonl`), 'utf8').trim().split('\n').filter(Boolean)
      .map((line) => JSON.parse(line) as ProcessEvent);
  } catch {
    return [];
  }
}

function latencies(responses: readonly TracedResponse[]): number[] {
  return responses.map((r) => r.latencyMs).sort((a, b) => a - b);
}

async function main(options: TraceOptions): Promise<void> {
  const setup = beginRun(1, options.target === 'switchyard');
  // Every Node child of this run loads the probe; only the target's records are read.
  const nodeOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --import ${join(ROOT, 'bench/trace-probe.mjs')}`.trim();
  process.env.SWITCHYARD_TRACE_DIR = setup.dir;
  try {
    const { started, unavailable } = await startBenchTargets(['direct', options.target], setup,
      { switchyardWorkers: 1, cpuProfDir: null, switchyardNodeFlags: [] });
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
    const target = started.find((t) => t.id === options.target);
    const direct = started.find((t) => t.id === 'direct')!;
    if (target === undefined || target.child === null) throw new Error(`${options.target} did not start: ${unavailable[0]?.reason}`);
    log(`${options.rate} req/s, ${options.settleSeconds} s settling + ${options.durationSeconds} s measured, ${CONNECTIONS} connections`);
    const directLatencies = latencies(await pacedRun(direct.url, options, 'direct'));
    const responses = await pacedRun(target.url, options, TARGET_LABELS[options.target]);
    await new Promise((resolve) => setTimeout(resolve, PROBE_FLUSH_WAIT_MS));
    if (responses.length === 0) throw new Error(`${options.target} answered no request with 2xx`);
    // A loop, not Math.min(...spread): a long run has more responses than a call takes arguments.
    let runStartMs = Infinity;
    let runEndMs = -Infinity;
    for (const r of responses) {
      runStartMs = Math.min(runStartMs, r.sentAtMs);
      runEndMs = Math.max(runEndMs, r.sentAtMs + r.latencyMs);
    }
    const events = readProbe(setup.dir, target.child.pid).filter((e) => e.atMs + e.ms >= runStartMs && e.atMs <= runEndMs);
    const sorted = latencies(responses);
    const p99 = quantile(sorted, 0.99);
    const slow = responses.filter((r) => r.latencyMs >= p99);
    const episodes = slowEpisodes(responses, p99, events);
    const ms = (value: number) => `${value.toFixed(2)} ms`;
    process.stdout.write([
      `direct: ${directLatencies.length} responses, p50 ${ms(quantile(directLatencies, 0.5))}, p99 ${ms(quantile(directLatencies, 0.99))}`,
      `${TARGET_LABELS[options.target]}: ${sorted.length} responses, p50 ${ms(quantile(sorted, 0.5))}, p99 ${ms(p99)}, p99.9 ${ms(quantile(sorted, 0.999))}`,
      `in the target meanwhile: ${eventTotals(events)}`,
      `slow requests (>= p99): ${slow.length}; in flight during a collection ${(100 * overlapShare(slow, events, 'gc')).toFixed(0)} %` +
        ` (all requests: ${(100 * overlapShare(responses, events, 'gc')).toFixed(0)} %), during a stall ${(100 * overlapShare(slow, events, 'stall')).toFixed(0)} %`,
      `${episodes.length} episodes (slow requests under 20 ms apart), largest first (seconds into the measured run, span, count, events @ms from its start):`,
      ...renderEpisodes(episodes, runStartMs, options.episodes),
      '',
    ].join('\n'));
  } finally {
    await stopAllChildren();
  }
}

await runCommand('bench:trace', () => main(parseOptions(process.argv.slice(2))));
