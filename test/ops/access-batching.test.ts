import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessLog, type AccessSink } from '../../src/log/access.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { RequestRecord } from '../../src/proxy/gateway.ts';

const record = (i: number): RequestRecord => ({
  requestId: `req-${i}`, method: 'GET', path: `/p/${i}?token=secret`, route: 'storefront', cluster: 'trade-east', status: 200,
  errorCode: undefined, clientIp: '202.96.128.86', geo: { country: 'CN', subdivision: 'CN-GD' }, durationMs: 1.23456,
  upstreamMs: 1, retries: 0, attempts: 1, bytesOut: 12, decisionReason: 'lowest cost', panic: false,
});

function recordingSink(pending = 0): AccessSink & { chunks: string[] } {
  const chunks: string[] = [];
  return { chunks, write: (chunk: string) => { chunks.push(chunk); return true; }, get writableLength() { return pending; } };
}

test('access lines are batched in whole lines of at most 4 KiB and flushed on demand', () => {
  const sink = recordingSink();
  const log = new AccessLog(createLogger({ sync: true, destination: '/dev/null' }), () => true, sink);
  for (let i = 0; i < 100; i++) log.requestEnded(record(i));
  log.flush();
  const lines = sink.chunks.join('').split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 100);
  for (const chunk of sink.chunks) {
    assert.ok(Buffer.byteLength(chunk) <= 4096, 'a batch fits in one atomic pipe write');
    assert.ok(chunk.endsWith('\n'), 'batches hold whole lines');
  }
  assert.ok(sink.chunks.length <= Math.ceil(Buffer.byteLength(sink.chunks.join("")) / 3000), `100 lines in ${sink.chunks.length} writes`);
  const first = JSON.parse(lines[0]) as Record<string, unknown>;
  assert.equal(first.msg, 'request');
  assert.equal(first.path, '/p/0', 'never the query string');
  assert.equal(first.country, 'CN');
});

test('a partial batch goes out within 100 ms; a stuck reader makes lines drop, counted, not pile up', async () => {
  const sink = recordingSink();
  const log = new AccessLog(createLogger({ sync: true, destination: '/dev/null' }), () => true, sink);
  log.requestEnded(record(1));
  assert.equal(sink.chunks.length, 0);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(sink.chunks.length, 1);
  const stuck = recordingSink(64 * 1024 * 1024);
  const blocked = new AccessLog(createLogger({ sync: true, destination: '/dev/null' }), () => true, stuck);
  for (let i = 0; i < 10; i++) blocked.requestEnded(record(i));
  blocked.flush();
  assert.equal(stuck.chunks.length, 0);
  assert.equal(blocked.dropped, 10);
});
