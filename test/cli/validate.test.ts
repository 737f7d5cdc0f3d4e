import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const node = join(repo, 'node_modules/.bin/node');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function switchyard(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const childEnv = { PATH: process.env.PATH ?? '', ...env };
    execFile(node, ['src/main.ts', ...args], { cwd: repo, env: childEnv }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function writeConfig(t: { after: (fn: () => void) => void }, lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-validate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'switchyard.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const validConfig = [
  'admin: { token: "${ADMIN_TOKEN}" }',
  'state: { redis: "redis://:${REDIS_PASSWORD}@127.0.0.1:6379" }',
  'regions:',
  '  east-china: { location: [31.23, 121.47] }',
  '  south-china: { location: [23.13, 113.26] }',
  'clusters:',
  '  trade-east: { region: east-china, role: primary, endpoints: [http://10.1.0.10] }',
  '  trade-south: { region: south-china, endpoints: [http://10.2.0.10] }',
  '  promo-standby: { region: east-china, role: standby, endpoints: [http://10.3.0.10] }',
  'routes:',
  '  - { name: payment-webhooks, match: { pathPrefix: /webhooks/ }, pin: trade-east, spool: { enabled: true } }',
  '  - { name: storefront, standby: { cluster: promo-standby } }',
  'schedules:',
  '  - { name: double-11, from: 2026-11-10T16:00:00Z, to: 2026-11-12T16:00:00Z, dials: { storefront: 40 } }',
];
const secrets = { ADMIN_TOKEN: 's3cret-admin-token', REDIS_PASSWORD: 'hunter2-redis' };

test('validate prints a one-line summary and exits 0 for a valid config, without secrets', async (t) => {
  const file = writeConfig(t, validConfig);
  const run = await switchyard(['validate', '-c', file], secrets);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `${file}: OK — 3 clusters (1 primary, 1 trade, 1 standby), 2 routes, 2 regions, 1 schedule\n`);
  assert.equal(run.stderr, '');
});

test('validate prints every error and a count, and exits 1, without secrets', async (t) => {
  const broken = validConfig.map((line) => line.replace('role: standby', 'role: standbye'));
  const file = writeConfig(t, [...broken, 'listen: { porrt: 8080 }']);
  const run = await switchyard(['validate', '--config', file], secrets);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, '');
  assert.deepEqual(run.stderr.trimEnd().split('\n'), [
    `${file}:9:46 clusters.promo-standby.role: must be one of primary, trade, standby`,
    `${file}:15:11 listen.porrt: unknown key "porrt" (did you mean port?)`,
    `${file}: 2 errors`,
  ]);
  for (const secret of Object.values(secrets)) assert.ok(!run.stderr.includes(secret));
});

test('validate reads the path from SWITCHYARD_CONFIG when -c is not given', async (t) => {
  const file = writeConfig(t, validConfig);
  const run = await switchyard(['validate'], { ...secrets, SWITCHYARD_CONFIG: file });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /: OK — 3 clusters/);
});

test('validate names a missing file and an unset variable', async (t) => {
  const missing = join(tmpdir(), 'switchyard-no-such-dir', 'switchyard.yaml');
  const run = await switchyard(['validate', '-c', missing]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, `${missing}:1:1: cannot read the config file: no such file\n${missing}: 1 error\n`);

  const file = writeConfig(t, validConfig);
  const unset = await switchyard(['validate', '-c', file], { ADMIN_TOKEN: 'x' });
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /:2:17 state\.redis: environment variable REDIS_PASSWORD is not set/);
});
