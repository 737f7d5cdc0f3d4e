import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/demo/local-ports.ts';

const run = promisify(execFile);

test('the demo config sends Guangzhou south, Hangzhou and London east, and webhooks to the primary', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let yaml = readFileSync('config/switchyard.yaml', 'utf8');
  // the same demo on free ports, so it can run beside anything else
  for (const port of ['8080', '9901', '18081', '18082', '18083', '18084']) {
    yaml = yaml.replaceAll(`:${port}`, `:${await freePort()}`).replaceAll(`port: ${port}`, `port: ${await freePort()}`);
  }
  const file = join(dir, 'switchyard.yaml');
  writeFileSync(file, yaml);
  const { stdout } = await run(process.execPath, ['src/demo/run.ts', '-c', file, '--self-test'], { timeout: 60_000 });
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 4, stdout);
  for (const line of lines) assert.match(line, /^ok /, line);
  assert.match(stdout, /202\.96\.128\.86 → 200 trade-south .*CN-GD/);
  assert.match(stdout, /223\.5\.5\.5 → 200 trade-east .*CN-ZJ/);
  assert.match(stdout, /217\.138\.0\.1 → 200 trade-east .*GB/);
  assert.match(stdout, /POST \/webhooks\/payment\/alipay .* → 200 trade-east/);
});
