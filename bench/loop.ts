/**
 * `npm run bench:loop -- MODULE [--count N]`: instructions per call of small functions, counted with
 * valgrind's callgrind. MODULE exports `cases`, an object of functions taking no arguments (see
 * bench/loops/hot-path.ts). Each case runs `count` times after every case has been warmed up, with
 * counting switched on only around it. An empty case is counted the same way first and subtracted:
 * the loop, the call and the process's own work while counting (reading the next command, answering)
 * are not the function's.
 *
 * A function alone in a loop is counted far more closely than a whole proxy, but not exactly: how V8
 * optimises it (inlining, which code is shared with the other cases) can differ between processes,
 * by up to a third for the same code in one case here. So each module runs in `--repeat` processes
 * (default 3) and the median and spread are printed. To compare two versions, run the same module
 * in both checkouts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { callgrindCommand, dumpCounts, readDump, setCounting } from './callgrind.ts';
import { positiveInteger, ROOT } from './harness.ts';
import { findExecutable, runCommand } from './processes.ts';
import { thousands } from './instructions-table.ts';
import { median } from './report.ts';

const DEFAULT_COUNT = 100_000;

const DEFAULT_REPEAT = 3;

/** Counts every case of the module in one process under callgrind: instructions per call, by case. */
async function countOnce(modulePath: string, names: readonly string[], count: number): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-loop-'));
  const [command, ...args] = callgrindCommand(dir);
  const child = spawn(command, [...args, process.execPath, join(ROOT, 'bench/loop-child.ts'), modulePath, String(count)],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const next = async () => {
      const { value, done } = await lines.next();
      if (done === true) throw new Error('the counted process ended early');
      return value as string;
    };
    if (await next() !== 'ready') throw new Error('the counted process did not get ready');
    // One uncounted command first: the first trip through the command loop sets up readline's
    // iterator, which would otherwise land in the first counted case (the empty one).
    child.stdin!.write(`run ${names[0]}\n`);
    await next();
    // Dump n (1-based) holds case n: counting is on only while it runs.
    for (const name of names) {
      setCounting(child.pid!, true);
      child.stdin!.write(`run ${name}\n`);
      await next();
      dumpCounts(child.pid!);
      setCounting(child.pid!, false);
    }
    // The main thread's count: the loop runs there.
    return names.map((_, index) => readDump(dir, child.pid!, index + 1).main / count);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { count: { type: 'string' }, repeat: { type: 'string' } } });
  if (positionals.length !== 1) throw new Error('usage: npm run bench:loop -- MODULE [--count N] [--repeat N]');
  if (findExecutable('valgrind') === null || findExecutable('callgrind_control') === null) {
    throw new Error('valgrind is not installed (apt-get install valgrind)');
  }
  const modulePath = resolve(positionals[0]);
  const count = positiveInteger('count', values.count, DEFAULT_COUNT);
  const repeat = positiveInteger('repeat', values.repeat, DEFAULT_REPEAT);
  const { cases } = await import(pathToFileURL(modulePath).href) as { cases: Record<string, unknown> };
  const names = Object.keys(cases);
  const runs: number[][] = [];
  for (let i = 0; i < repeat; i++) {
    const [overhead, ...counts] = await countOnce(modulePath, ['(overhead)', ...names], count);
    runs.push(counts.map((perCall) => perCall - overhead));
  }
  const width = Math.max(...names.map((name) => name.length));
  names.forEach((name, index) => {
    const counts = runs.map((run) => run[index]);
    const spread = repeat === 1 ? '' : ` (${thousands(Math.min(...counts))}–${thousands(Math.max(...counts))})`;
    process.stdout.write(`${name.padEnd(width)}  ${thousands(median(counts))} instructions per call${spread}\n`);
  });
  process.stdout.write(`median of ${repeat} process${repeat === 1 ? '' : 'es'} (lowest–highest), ${thousands(count)} calls each after warm-up, `
    + 'an empty case subtracted\n');
}

await runCommand('bench:loop', main);
