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

test('header names are judged the same in any spelling, however many spellings a client sends', () => {
  const trusted = { ...facts, peerTrusted: true };
  const headersFor = (raw: string[], f = facts) => {
    const out = upstreamRequestHeaders(raw, f);
    return Object.fromEntries(out.flatMap((v, i) => (i % 2 === 0 ? [[v.toLowerCase(), out[i + 1]]] : [])));
  };
  const check = () => {
    for (const spelling of ['Proxy-Connection', 'proxy-connection', 'PROXY-CONNECTION', 'Keep-Alive', 'TE', 'Upgrade', 'X-Switchyard-Cluster', 'x-GEO-country']) {
      assert.equal(headersFor(['Host', 'h', spelling, 'v'])[spelling.toLowerCase()], undefined, `${spelling} is dropped`);
    }
    for (const spelling of ['X-Forwarded-For', 'x-forwarded-for', 'X-FORWARDED-FOR']) {
      assert.equal(headersFor(['Host', 'h', spelling, '203.0.113.9'])['x-forwarded-for'], '10.0.0.1', `untrusted ${spelling} is replaced`);
      assert.equal(headersFor(['Host', 'h', spelling, '203.0.113.9'], trusted)['x-forwarded-for'], '203.0.113.9, 10.0.0.1', `trusted ${spelling} is extended`);
    }
    for (const spelling of ['HOST', 'host', 'Host']) assert.equal(headersFor([spelling, 'shop.example'])['x-forwarded-host'], 'shop.example');
    assert.equal(headersFor(['Host', 'h', 'X-Custom', 'kept'])['x-custom'], 'kept');
  };
  check();
  // Names are remembered by spelling, up to a bound; a client sending thousands keeps nothing from passing.
  for (let i = 0; i < 2500; i++) upstreamRequestHeaders([`X-Junk-${i}`, 'v', i % 2 === 0 ? 'Te' : 'tE', 'trailers'], facts);
  check();
});
