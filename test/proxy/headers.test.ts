import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upstreamRequestHeaders } from '../../src/proxy/headers.ts';

const facts = { peer: '10.0.0.1', peerTrusted: false, requestId: 'r-1', geo: undefined };

function names(raw: string[]): string[] {
  return upstreamRequestHeaders(raw, facts).filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

test('Connection names headers that must not pass; plain keep-alive or close, in any case, names none', () => {
  const base = ['Host', 'a', 'X-Private', 's', 'Accept', '*/*'];
  for (const value of ['keep-alive', 'close', 'Keep-Alive', 'CLOSE']) {
    const kept = names(['Connection', value, ...base]);
    assert.ok(kept.includes('x-private'), `Connection: ${value} drops nothing else`);
    assert.ok(!kept.includes('connection'));
  }
  for (const value of ['keep-alive, X-Private', 'x-private', ' Close ,x-private']) {
    const kept = names(['Connection', value, ...base]);
    assert.ok(!kept.includes('x-private'), `Connection: ${value} drops X-Private`);
    assert.ok(kept.includes('accept'));
  }
  // A second Connection line counts as well as the first.
  assert.ok(!names(['Connection', 'keep-alive', 'Connection', 'x-private', ...base]).includes('x-private'));
});
