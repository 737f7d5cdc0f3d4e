/**
 * The chaos soak in short mode, so CI runs it: 20 s of kills, dial flips and reloads under load must
 * leave every invariant intact (see chaos.ts; the long run is `node test/soak/chaos.ts --duration 10m`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './fleet.ts';

test('20 s of chaos under load: every invariant holds', { timeout: 150_000 }, async (t) => {
  const child = spawn(join(repoRoot, 'node_modules/.bin/node'), ['test/soak/chaos.ts', '--duration', '20s', '--seed', '11'], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
  });
  // SIGTERM, so that the soak's exit handler kills the processes it started.
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (const line of output.trimEnd().split('\n')) t.diagnostic(line);
  assert.equal(code, 0, output);
});
