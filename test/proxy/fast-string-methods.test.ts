import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, repoRoot, spawnSwitchyard, waitFor } from '../helpers/switchyard.ts';

const run = promisify(execFile);
const node = join(repoRoot, 'node_modules/.bin/node');
const probe = join(repoRoot, 'test/proxy/fixtures/string-prototype-probe.mjs');

test('loading ioredis leaves String.prototype in dictionary mode; restoreFastStringMethods makes it fast again', async () => {
  const script = `
    await import('ioredis');
    const loaded = %HasFastProperties(String.prototype);
    const { restoreFastStringMethods } = await import('./src/fast-string-methods.ts');
    restoreFastStringMethods();
    console.log(JSON.stringify({ loaded, restored: %HasFastProperties(String.prototype) }));`;
  const { stdout } = await run(node, ['--allow-natives-syntax', '--input-type=module', '-e', script], { cwd: repoRoot });
  // If this first half ever fails, ioredis stopped extending String and the workaround can go.
  assert.deepEqual(JSON.parse(stdout), { loaded: false, restored: true });
});

test('a started gateway has String.prototype in fast mode, so optimised code inlines string methods', async (t) => {
  const upstream = await startUpstream(t, 'east');
  const sy = await spawnSwitchyard(t, gatewayConfig({ east: upstream.url, south: upstream.url, standby: upstream.url }), {},
    { nodeArgs: ['--allow-natives-syntax', '--import', probe] });
  sy.child.kill('SIGUSR2');
  await waitFor('the probe to answer', () => sy.stderr().includes('string-prototype now:'));
  assert.match(sy.stderr(), /string-prototype before-gateway: fast/);
  assert.match(sy.stderr(), /string-prototype now: fast/, sy.stderr());
});
