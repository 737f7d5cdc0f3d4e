/**
 * `npm run bench:soak` in a 6-second form: it starts Switchyard, drives it, samples it and ends with
 * the summary and a verdict. Pass or fail is not asserted: 6 s on a shared machine decide nothing.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOAK_TIMEOUT_MS = 60_000;

it('a short soak prints the summary with every check and exits with its verdict', { timeout: SOAK_TIMEOUT_MS }, async (t) => {
  const args = ['bench/soak.ts', '--duration', '6s', '--warmup', '2s', '--interval', '1s', '--rate', '200'];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  // SIGTERM, so that the soak's exit handler stops the upstream and Switchyard it started.
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const verdict = /^\*\*Verdict: (pass|fail)\*\*/m.exec(stdout);
  assert.ok(verdict, `a verdict line\n${stdout}\n${stderr}`);
  assert.equal(code, verdict[1] === 'pass' ? 0 : 1, stderr);
  for (const check of ['RSS after warm-up', 'anonymous RSS after warm-up', 'open file descriptors', 'active handles', 'failed requests']) {
    assert.match(stdout, new RegExp(`^\\| ${check}`, 'm'), `a row for ${check}`);
  }
  assert.match(stderr, /RSS [\d.]+ MiB · anon [\d.]+ MiB · fds \d+ · handles \d+/, 'a progress line per sample');
});
