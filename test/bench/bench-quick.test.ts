import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProfiles } from '../../bench/profiles.ts';
import { TARGET_LABELS } from '../../bench/targets.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BENCH_TIMEOUT_MS = 90_000;

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runBench(args: readonly string[]): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bench/run.ts'), ...args], { cwd: root, timeout: BENCH_TIMEOUT_MS },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : (error.code as number | null) ?? null, stdout, stderr }));
  });
}

/** The table's rows as cells, keyed "target · profile". */
function tableRows(stdout: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of stdout.split('\n').filter((text) => text.startsWith('| '))) {
    const cells = line.slice(2, -2).split(' | ');
    rows.set(`${cells[0]} · ${cells[1]}`, cells);
  }
  return rows;
}

describe('npm run bench -- --quick', () => {
  it('measures direct, bare and @fastify/http-proxy in every profile and prints the table', { timeout: BENCH_TIMEOUT_MS + 10_000 }, async () => {
    const { code, stdout, stderr } = await runBench(['--quick', '--only=direct,bare,fastify-http-proxy']);
    assert.equal(code, 0, stderr);
    const rows = tableRows(stdout);
    const profiles = buildProfiles(false);
    for (const target of [TARGET_LABELS.direct, TARGET_LABELS.bare, TARGET_LABELS['fastify-http-proxy']]) {
      for (const profile of profiles) {
        const cells = rows.get(`${target} · ${profile.label}`);
        assert.ok(cells, `a row for ${target} · ${profile.label}\n${stdout}`);
        assert.ok(Number(cells[2].replaceAll(',', '')) > 0, `a positive req/s for ${target} · ${profile.label}: ${cells[2]}`);
      }
    }
    assert.equal(rows.has(`${TARGET_LABELS.switchyard} · all`), false, 'targets outside --only are not reported');
  });

  it('rejects an unknown target', async () => {
    const { code, stderr } = await runBench(['--only=direct,haproxy']);
    assert.equal(code, 1);
    assert.match(stderr, /haproxy/);
  });
});
