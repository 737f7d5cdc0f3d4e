import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedisUrl } from '../../src/state/redis-url.ts';
import { keyLayout } from '../../src/state/keys.ts';

test('standalone URLs', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380/4'), { mode: 'standalone', options: { host: '127.0.0.1', port: 6380, db: 4 } });
  assert.deepEqual(parseRedisUrl('rediss://user:p%40ss@redis.example'), {
    mode: 'standalone', options: { host: 'redis.example', port: 6379, db: 0, username: 'user', password: 'p@ss', tls: {} },
  });
  assert.deepEqual(parseRedisUrl('redis://:secret@[::1]:7000'), { mode: 'standalone', options: { host: '::1', port: 7000, db: 0, password: 'secret' } });
});

test('sentinel URLs', () => {
  assert.deepEqual(parseRedisUrl('redis+sentinel://:pw@s1:26379,s2,[::1]:26380/mymaster/2?sentinelPassword=sp'), {
    mode: 'sentinel',
    options: {
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }, { host: '::1', port: 26380 }],
      name: 'mymaster', db: 2, role: 'master', password: 'pw', sentinelPassword: 'sp',
    },
  });
  const tls = parseRedisUrl('rediss+sentinel://s1/m?role=slave');
  assert.equal(tls.mode, 'sentinel');
  assert.deepEqual(tls.options, { sentinels: [{ host: 's1', port: 26379 }], name: 'm', db: 0, role: 'slave', tls: {}, enableTLSForSentinelMode: true });
});

test('cluster URLs', () => {
  assert.deepEqual(parseRedisUrl('redis+cluster://u:p@n1:7000,n2:7001'), {
    mode: 'cluster', nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }], options: { redisOptions: { username: 'u', password: 'p' } },
  });
});

test('invalid URLs are rejected without quoting them', () => {
  for (const url of ['http://x', 'redis+sentinel://s1', 'redis+cluster://n1/3', 'redis+cluster://n1:99999', 'redis://h?x=1',
    'redis+sentinel://s1/m?password=leak', 'redis://:hunter2@h/abc']) {
    assert.throws(() => parseRedisUrl(url), (err: Error) => !err.message.includes('hunter2') && !err.message.includes(url), url);
  }
});

test('every key of one fleet shares one hash tag (Redis Cluster slot)', () => {
  const keys = keyLayout('switchyard:');
  assert.equal(keys.instance('pod-1'), '{switchyard:}instance:pod-1');
  assert.equal(keys.instances, '{switchyard:}instances');
  assert.equal(keys.drain('east'), '{switchyard:}drain:east');
  assert.equal(keys.dial('storefront'), '{switchyard:}dial:storefront');
  assert.equal(keys.external('east'), '{switchyard:}external:east');
  assert.equal(keyLayout('app:{sy}:').drain('east'), 'app:{sy}:drain:east', 'a prefix with its own tag is kept');
});
