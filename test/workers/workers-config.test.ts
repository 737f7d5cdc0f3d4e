/**
 * The `workers` key: an integer ≥ 1 defaulting to 1, restart-only, needing a fixed traffic port; more
 * than one worker without Redis is valid but `validate` warns that workers keep their own views.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigText } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { restartOnlyChanges } from '../../src/server-lifecycle.ts';
import { repoRoot } from '../helpers/switchyard.ts';

const base = [
  'regions: { east-china: { location: [31.23, 121.47] } }',
  'clusters: { trade-east: { region: east-china, role: primary, endpoints: [http://10.1.0.10] } }',
  'routes: [ { name: storefront } ]',
];

function load(lines: string[]): ReturnType<typeof loadConfigText> {
  return loadConfigText(`${lines.join('\n')}\n`, 'cfg.yaml', {});
}

function loaded(lines: string[]): Config {
  const result = load(lines);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

function validate(t: { after: (fn: () => void) => void }, lines: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-workers-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'switchyard.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return new Promise((resolve) => {
    execFile(join(repoRoot, 'node_modules/.bin/node'), ['src/main.ts', 'validate', '-c', file], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '' } },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr }));
  });
}

test('workers defaults to 1 and must be a positive integer', () => {
  assert.equal(loaded(base).workers, 1);
  assert.equal(loaded([...base, 'workers: 4']).workers, 4);
  for (const bad of ['0', '1.5', '"two"']) {
    const result = load([...base, `workers: ${bad}`]);
    assert.equal(result.ok, false, `workers: ${bad} is refused`);
    if (!result.ok) assert.deepEqual(result.issues.map((i) => [i.line, i.path]), [[4, 'workers']]);
  }
});

test('more than one worker needs a fixed listen port', () => {
  const result = load([...base, 'listen: { port: 0 }', 'workers: 2']);
  assert.equal(result.ok, false);
  if (!result.ok) assert.deepEqual(result.issues.map((i) => [i.line, i.column, i.path]), [[5, 10, 'workers']]);
  assert.equal(load([...base, 'listen: { port: 0 }']).ok, true, 'one worker may listen on any free port');
});

test('a reload that changes workers is reported as restart-only', () => {
  assert.deepEqual(restartOnlyChanges(loaded(base), loaded([...base, 'workers: 2'])), ['workers']);
  assert.deepEqual(restartOnlyChanges(loaded([...base, 'workers: 2']), loaded([...base, 'workers: 2'])), []);
});

test('validate warns, without failing, about several workers without Redis', async (t) => {
  const withoutRedis = await validate(t, [...base, 'workers: 2']);
  assert.equal(withoutRedis.code, 0, withoutRedis.stderr);
  assert.match(withoutRedis.stdout, /: OK — /);
  assert.match(withoutRedis.stderr, /: warning: workers: 2 without state\.redis: each worker keeps its own health, latency and breaker view/);

  const withRedis = await validate(t, [...base, 'workers: 2', 'state: { redis: "redis://127.0.0.1:6379" }']);
  assert.equal(withRedis.code, 0, withRedis.stderr);
  assert.equal(withRedis.stderr, '');
  const single = await validate(t, base);
  assert.equal(single.stderr, '', 'one worker needs no warning');
});
