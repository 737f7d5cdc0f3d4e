import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, repoRoot, spawnSwitchyard, waitFor } from '../helpers/switchyard.ts';

const run = promisify(execFile);
const node = join(repoRoot, 'node_modules/.bin/node');
const probe = join(repoRoot, 'test/proxy/fixtures/pretenuring-probe.mjs');
/** A small young generation: many scavenges, so V8 sees the site's objects survive and decides. */
const v8Args = ['--allow-natives-syntax', '--max-semi-space-size=1'];

/** Runs the probe's experiment in a fresh process, with or without the switch; how many of 100 stay young. */
async function youngAfterSurvivingSite(disable: boolean): Promise<number> {
  const script = `
    ${disable ? "(await import('./src/pretenuring.ts')).disableAllocationSitePretenuring();" : ''}
    await import(${JSON.stringify(probe)});
    process.emit('SIGUSR2');`;
  const { stderr } = await run(node, [...v8Args, '--input-type=module', '-e', script], { cwd: repoRoot });
  return Number(/young=(\d+)/.exec(stderr)?.[1]);
}

test('V8 pretenures a literal site whose objects survive; disableAllocationSitePretenuring keeps them young', async () => {
  // If the first half ever fails, V8 changed its heuristic and src/pretenuring.ts should be measured again.
  assert.equal(await youngAfterSurvivingSite(false), 0);
  assert.equal(await youngAfterSurvivingSite(true), 100);
});

test('a started gateway allocates young even at a site whose objects all survived', async (t) => {
  const upstream = await startUpstream(t, 'east');
  const sy = await spawnSwitchyard(t, gatewayConfig({ east: upstream.url, south: upstream.url, standby: upstream.url }), {},
    { nodeArgs: [...v8Args, '--import', probe] });
  sy.child.kill('SIGUSR2');
  await waitFor('the probe to answer', () => sy.stderr().includes('pretenuring-probe young='));
  assert.match(sy.stderr(), /pretenuring-probe young=100 /, sy.stderr());
});

// A function literal assigned straight to a property (`o.f = () => ...`) is allocated in the old
// generation: V8's parser takes it for a method defined once. Dead, it keeps what its context holds
// through every scavenge until the next full collection; undici's request object does this for a
// stream body, which is why AttemptBody.release exists. If this fails, V8 changed the heuristic and
// the README's "Closures that V8 allocates old" should be measured again.
test('V8 allocates a closure assigned straight to a property in the old generation, not one bound to a name first', async () => {
  const closureProbe = join(repoRoot, 'test/proxy/fixtures/closure-tenuring-probe.mjs');
  const { stdout } = await run(node, ['--allow-natives-syntax', '--no-opt', '--no-maglev', closureProbe], { cwd: repoRoot });
  assert.equal(stdout.trim(), 'assigned=0 boundFirst=100 classField=100');
});
