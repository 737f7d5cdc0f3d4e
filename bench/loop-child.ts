/**
 * The process `npm run bench:loop` counts (bench/loop.ts): it loads a cases module, warms every case
 * up (three rounds of `count` calls, so V8 optimises them), says `ready`, then runs `count` calls of
 * the case named on each `run NAME` line from stdin and answers `done`.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const WARM_ROUNDS = 3;
const [modulePath, countText] = process.argv.slice(2);
const count = Number(countText);
const { cases: moduleCases } = await import(pathToFileURL(modulePath).href) as { cases: Record<string, () => unknown> };
/** The loop, the calls and the process's own work while counting, measured like a case and subtracted from each. */
const OVERHEAD_CASE = '(overhead)';
const cases: Record<string, () => unknown> = { [OVERHEAD_CASE]: () => undefined, ...moduleCases };
// Results are kept so V8 cannot drop the calls as dead code.
let kept: unknown;
for (let round = 0; round < WARM_ROUNDS; round++) {
  for (const call of Object.values(cases)) for (let i = 0; i < count; i++) kept = call();
}
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const call = cases[line.slice('run '.length)];
  for (let i = 0; i < count; i++) kept = call();
  process.stdout.write(`done ${typeof kept}\n`);
}
