/**
 * The wrk mode: autocannon on one core tops out near nginx's rate, so the GET profile is also sent with
 * wrk (one thread on the load CPU) through a Lua script that cycles the same requests and prints a
 * JSON summary.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunResult } from './load.ts';
import type { LoadRequest } from './profiles.ts';
import { spawnChild, stopChild } from './processes.ts';

/** One wrk run against one target. */
export interface WrkRun {
  readonly wrk: string;
  readonly url: string;
  readonly requests: readonly LoadRequest[];
  readonly connections: number;
  readonly durationSeconds: number;
  readonly cpu: number | null;
  /** Where the script and output go (the run's temp dir). */
  readonly dir: string;
}

const RESPONSE_TIMEOUT_SECONDS = 10;
/** How long past its duration a wrk run may take before it is stopped. */
const OVERRUN_MS = 15_000;
const US_PER_MS = 1000;
const SUMMARY_PREFIX = 'bench-summary ';

/** A Lua string literal; JSON's escapes are valid Lua for the ASCII text sent here. */
function luaString(text: string): string {
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`wrk: only printable ASCII can be scripted: ${text.slice(0, 40)}`);
  return JSON.stringify(text);
}

function luaRequest(request: LoadRequest): string {
  const headers = Object.entries(request.headers).map(([name, value]) => `[${luaString(name)}] = ${luaString(value)}`);
  const body = request.body === undefined ? 'nil' : luaString(request.body.toString('latin1'));
  return `wrk.format(${luaString(request.method)}, ${luaString(request.path)}, { ${headers.join(', ')} }, ${body})`;
}

/** The Lua script: requests pre-built in init(), cycled in request(), a JSON line printed in done(). */
export function renderWrkScript(requests: readonly LoadRequest[]): string {
  return `local built = {}
local index = 0
function init(args)
${requests.map((request) => `  built[#built + 1] = ${luaRequest(request)}`).join('\n')}
end
function request()
  index = index % #built + 1
  return built[index]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${SUMMARY_PREFIX}{"requests":%d,"durationUs":%d,"statusErrors":%d,"socketErrors":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

let runCount = 0;

/** Runs wrk once and reduces its summary to a RunResult. */
export async function runWrk(run: WrkRun): Promise<RunResult> {
  const id = ++runCount;
  const script = join(run.dir, `wrk-${id}.lua`);
  const output = join(run.dir, `wrk-${id}.log`);
  writeFileSync(script, renderWrkScript(run.requests));
  const child = spawnChild({
    name: 'wrk', command: run.wrk, cpu: run.cpu, logFile: output,
    args: ['-t1', `-c${run.connections}`, `-d${run.durationSeconds}s`, `--timeout`, `${RESPONSE_TIMEOUT_SECONDS}s`, '-s', script, run.url],
  });
  const finished = await Promise.race([
    child.exited.then(() => true),
    sleep(run.durationSeconds * 1000 + OVERRUN_MS).then(() => false),
  ]);
  if (!finished) await stopChild(child);
  const line = readFileSync(output, 'utf8').split('\n').find((text) => text.startsWith(SUMMARY_PREFIX));
  if (line === undefined) throw new Error(`wrk gave no summary (exit ${child.exit?.code ?? 'none'}); see ${output}`);
  const summary = JSON.parse(line.slice(SUMMARY_PREFIX.length)) as {
    requests: number; durationUs: number; statusErrors: number; socketErrors: number; p50Us: number; p99Us: number;
  };
  return {
    requestsPerSecond: (summary.requests - summary.statusErrors) / (summary.durationUs / 1e6),
    p50Ms: summary.p50Us / US_PER_MS,
    p99Ms: summary.p99Us / US_PER_MS,
    failures: summary.statusErrors + summary.socketErrors,
  };
}
