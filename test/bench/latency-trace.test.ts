import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { overlapShare, slowEpisodes, type ProcessEvent, type TracedResponse } from '../../bench/trace-report.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TRACE_TIMEOUT_MS = 90_000;

describe('npm run bench:trace', () => {
  it('drives a real target with the probe preloaded and reports its collections next to the slow requests', { timeout: TRACE_TIMEOUT_MS + 10_000 }, async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [join(root, 'bench/latency-trace.ts'), '--target', 'bare', '--rate', '1000', '--duration', '3', '--settle', '1'],
        { cwd: root, timeout: TRACE_TIMEOUT_MS },
        (error, out, err) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout: out, stderr: err }));
    });
    assert.equal(code, 0, stderr);
    const direct = /^direct: (\d+) responses/m.exec(stdout);
    const bare = /^bare fastify\+undici: (\d+) responses, p50 [\d.]+ ms, p99 ([\d.]+) ms/m.exec(stdout);
    assert.ok(direct && bare, stdout);
    // Three measured seconds at 1,000 req/s: the settling second is left out.
    for (const count of [Number(direct[1]), Number(bare[1])]) assert.ok(count > 2400 && count < 3600, `${count} responses\n${stdout}`);
    // 3,000 requests through a Node proxy allocate enough for the probe to see collections.
    assert.match(stdout, /^in the target meanwhile: .*scavenge \d+/m, 'the probe in the target recorded its collections');
    assert.match(stdout, /^\d+ episodes/m);
  });
});

describe('trace report', () => {
  const at = 1_000_000;
  const responses: TracedResponse[] = [
    { sentAtMs: at, latencyMs: 1 }, { sentAtMs: at + 1, latencyMs: 9 }, { sentAtMs: at + 5, latencyMs: 8 },
    { sentAtMs: at + 500, latencyMs: 1 }, { sentAtMs: at + 900, latencyMs: 12 },
  ];
  const events: ProcessEvent[] = [{ type: 'gc', kind: 1, atMs: at + 2, ms: 6 }, { type: 'stall', atMs: at + 905, ms: 3 }];

  it('groups slow requests that are close together and lays the events of their time beside them', () => {
    const episodes = slowEpisodes(responses, 8, events);
    assert.deepEqual(episodes.map((e) => [e.startMs - at, e.slow, e.events.map((x) => x.type)]), [[1, 2, ['gc']], [900, 1, ['stall']]]);
  });

  it('counts the requests in flight during an event', () => {
    assert.equal(overlapShare(responses, events, 'gc'), 2 / 5);
    assert.equal(overlapShare(responses, events, 'stall'), 1 / 5);
  });
});
