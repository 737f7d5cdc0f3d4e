/**
 * `npm run bench:instructions` and `npm run bench:loop`: reading callgrind's totals, the table's
 * ratios, and real runs under valgrind (the bare proxy for a few hundred requests; a loop of known
 * length). The real runs skip, saying so, without valgrind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instructionTotal } from '../../bench/callgrind.ts';
import { renderInstructionTable, type Count } from '../../bench/instructions-table.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SMOKE_TIMEOUT_MS = 240_000;

function hasValgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('callgrind totals', () => {
  it('reads the totals line, or the summary line of a file without one', () => {
    assert.equal(instructionTotal('# callgrind format\nevents: Ir\nsummary: 123456\n\nfn=(1) main\n5 10\n'), 123456);
    assert.equal(instructionTotal('events: Ir\nfn=(1) main\n5 10\ntotals: 42\n'), 42);
    // A later dump's summary wraps below zero; its totals line is right.
    assert.equal(instructionTotal('part: 2\nsummary: 18446744073696528469\nfn=(1) main\n5 10\ntotals: 337743072\n'), 337743072);
  });

  it('refuses a file that is not callgrind output', () => {
    assert.throws(() => instructionTotal('hello\n'), /not a callgrind output file/);
  });
});

describe('the instructions table', () => {
  const count = (target: Count['target'], profile: Count['profile'], all: number, failed = 0): Count =>
    ({ target, profile, requests: 1000, all: all * 1000, main: all * 900, failed });

  it('gives each target per request and against bare and @fastify/http-proxy of the same profile', () => {
    const table = renderInstructionTable([
      count('bare', 'get', 100_000), count('fastify-http-proxy', 'get', 150_000), count('switchyard', 'get', 120_000),
      count('bare', 'post', 200_000), count('switchyard', 'post', 300_000, 3),
    ]);
    const rows = table.split('\n').slice(2).map((line) => line.slice(2, -2).split(' | '));
    assert.deepEqual(rows[0], ['bare fastify+undici', 'get', '100,000', '–', '90,000', '1.00×', '0.67×']);
    assert.deepEqual(rows[2], ['switchyard', 'get', '120,000', '–', '108,000', '1.20×', '0.80×']);
    assert.deepEqual(rows[4], ['switchyard', 'post ⚠ 3 failed', '300,000', '–', '270,000', '1.50×', '–']);
  });

  it('keeps the lowest of repeated counts, gives the spread, and compares the lowest', () => {
    const table = renderInstructionTable([
      count('bare', 'get', 110_000), count('bare', 'get', 100_000),
      count('switchyard', 'get', 150_000, 1), count('switchyard', 'get', 130_000, 1),
    ]);
    const rows = table.split('\n').slice(2).map((line) => line.slice(2, -2).split(' | '));
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], ['bare fastify+undici', 'get', '100,000', '100,000–110,000', '90,000', '1.00×', '–']);
    assert.deepEqual(rows[1], ['switchyard', 'get ⚠ 2 failed', '130,000', '130,000–150,000', '117,000', '1.30×', '–']);
  });
});

describe('npm run bench:instructions -- --quick', () => {
  const skip = hasValgrind() ? false : 'valgrind is not installed';
  it('counts the bare proxy under callgrind and prints its row', { skip, timeout: SMOKE_TIMEOUT_MS + 10_000 }, async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(root, 'bench/instructions.ts'), '--quick', '--only=bare', '--profiles=get'],
        { cwd: root, timeout: SMOKE_TIMEOUT_MS },
        (error, out, err) => resolve({ code: error === null ? 0 : (error.code as number | null) ?? null, stdout: out, stderr: err }));
    });
    assert.equal(code, 0, stderr);
    const row = stdout.split('\n').find((line) => line.startsWith('| bare fastify+undici | get |'));
    assert.ok(row !== undefined, stdout);
    const [, , all, , main] = row.slice(2, -2).split(' | ');
    const perRequest = Number(all.replaceAll(',', ''));
    // A proxied request is tens of thousands of instructions at the very least; zero means nothing was counted.
    assert.ok(perRequest > 10_000, `counted ${all} per request`);
    assert.ok(Number(main.replaceAll(',', '')) <= perRequest);
    assert.match(stdout, /Lower is better/);
  });
});

describe('npm run bench:loop', () => {
  const skip = hasValgrind() ? false : 'valgrind is not installed';
  it('counts each case of a module per call', { skip, timeout: SMOKE_TIMEOUT_MS + 10_000 }, async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(root, 'bench/loop.ts'), join(root, 'test/bench/fixtures/loop-cases.ts'), '--count', '20000', '--repeat', '1'],
        { cwd: root, timeout: SMOKE_TIMEOUT_MS },
        (error, out, err) => resolve({ code: error === null ? 0 : (error.code as number | null) ?? null, stdout: out, stderr: err }));
    });
    assert.equal(code, 0, stderr);
    const perCall = (name: string) => {
      const line = stdout.split('\n').find((text) => text.startsWith(name));
      assert.ok(line !== undefined, stdout);
      return Number(/(-?[\d,]+) instructions per call/.exec(line)![1].replaceAll(',', ''));
    };
    const nothing = perCall('nothing');
    const thousand = perCall('a thousand additions');
    // The empty case is subtracted, so a case doing next to nothing counts next to nothing; a thousand
    // additions, compares and increments take thousands.
    assert.ok(Math.abs(nothing) < 500, `nothing: ${nothing}`);
    assert.ok(thousand > nothing + 2000 && thousand < 100_000, `a thousand additions: ${thousand}`);
  });
});
