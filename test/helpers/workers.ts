/**
 * Reading a multi-process gateway from outside, for tests: which worker processes exist (the
 * supervisor logs each one ready), which of them answered requests (every access-log line carries the
 * pid of the process that wrote it), and requests sent on fresh connections, because the kernel
 * spreads connections, not requests, over the workers.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { send, type Answer } from './client.ts';
import type { LogLine, SpawnedSwitchyard } from './switchyard.ts';
import { sampleValue } from '../admin/metrics-text.ts';

/** Pids of the workers the supervisor reported ready, in order. */
export function readyWorkerPids(sy: SpawnedSwitchyard): number[] {
  return sy.logLines().filter((l) => l.msg === 'worker ready').map((l) => l.workerPid as number);
}

/** Access-log lines (one per answered request). */
export function accessLines(sy: SpawnedSwitchyard): LogLine[] {
  return sy.logLines().filter((l) => l.msg === 'request');
}

/** Distinct pids of the processes that wrote access lines. */
export function answeringPids(lines: readonly LogLine[]): Set<number> {
  return new Set(lines.map((l) => l.pid as number));
}

/** Sends `count` GETs, each on its own connection, `concurrency` at a time; resolves with every answer in order. */
export async function sendOnFreshConnections(url: string, count: number, concurrency = 4, headers: Record<string, string> = {}): Promise<Answer[]> {
  const answers: Answer[] = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      answers[i] = await send(url, { headers, agent: false });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return answers;
}

/** One sample of the admin /metrics, undefined when absent. */
export async function scrape(adminUrl: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return sampleValue(await (await fetch(`${adminUrl}/metrics`)).text(), name, labels);
}

/**
 * How many listening TCP sockets on `port` process `pid` holds (Linux /proc): with SO_REUSEPORT every
 * worker holds its own, and a supervisor that is not on the data path holds none.
 */
export function listeningSocketsOn(pid: number, port: number): number {
  const listening = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue;
      if (Number.parseInt(fields[1].split(':')[1], 16) === port) listening.add(fields[9]);
    }
  }
  let count = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && listening.has(inode)) count++;
  }
  return count;
}
