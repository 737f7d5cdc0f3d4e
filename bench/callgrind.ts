/**
 * Counting a process's instructions with valgrind's callgrind: the command a target runs under,
 * switching counting on around the measured requests, and reading the totals it dumps.
 *
 * An instruction count does not move with what else the machine is doing, which wall-clock and CPU-time
 * measurements on a shared virtual machine do by tens of percent: it is the way to judge a change of a
 * few percent. It counts user-space instructions only (system calls are one instruction each), and
 * under valgrind the process runs some 50 times slower, so work paced by the clock (timers, periodic
 * loops, anything cached per millisecond) weighs more per request than at native speed.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * valgrind's command line: nothing is counted until `setCounting(pid, true)`; each thread gets its own
 * file so the main thread (the request path) can be told from the collector's and compiler's threads.
 */
export function callgrindCommand(outDir: string): string[] {
  return [
    'valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', '--dump-instr=no',
    `--callgrind-out-file=${join(outDir, 'callgrind.out.%p')}`,
  ];
}

/** Starts or stops counting in a process running under callgrind. */
export function setCounting(pid: number, on: boolean): void {
  execFileSync('callgrind_control', ['--instr', on ? 'on' : 'off', String(pid)], { stdio: 'ignore' });
}

/** Writes what was counted since the last dump to the process's next dump files (see readDump). */
export function dumpCounts(pid: number): void {
  execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
}

/**
 * The instruction total a callgrind file reports: its `totals:` line, else its `summary:` line. The
 * summary of a second or later dump can wrap around below zero (valgrind 3.19); the totals do not.
 */
export function instructionTotal(text: string): number {
  const line = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text);
  if (line === null) throw new Error('not a callgrind output file: no summary or totals line');
  return Number(line[1]);
}

/** Instructions of one dump of a process: every thread, and the main thread (thread 01) alone. */
export interface DumpCounts {
  readonly all: number;
  readonly main: number;
}

/**
 * Reads dump `part` of `pid` from `outDir` (the first `dumpCounts` writes part 1, the next part 2),
 * one file per thread: `callgrind.out.<pid>.<part>-<thread>`.
 */
export function readDump(outDir: string, pid: number, part = 1): DumpCounts {
  const prefix = `callgrind.out.${pid}.${part}-`;
  const files = readdirSync(outDir).filter((name) => name.startsWith(prefix));
  if (files.length === 0) throw new Error(`callgrind wrote no dump ${part} for process ${pid} in ${outDir}`);
  let all = 0;
  let main = 0;
  for (const name of files) {
    const total = instructionTotal(readFileSync(join(outDir, name), 'utf8'));
    all += total;
    if (name === `${prefix}01`) main = total;
  }
  return { all, main };
}
