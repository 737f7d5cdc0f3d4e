import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRedis, startRedisCluster } from '../helpers/redis.ts';
import { startInstance } from './instance.ts';
import { startPrimary } from './primary.ts';
import { postWebhook, sha256, spoolObserver, waitFor, webhookConfig, webhookRoute } from './fixtures.ts';
import { spoolKeys } from '../../src/spool/keys.ts';

test('two instances share one spool: one replayer delivers every entry once, in the spool\'s order', async (t) => {
  const redis = await startRedis(t);
  const primary = await startPrimary(t, true);
  const config = webhookConfig({ primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', redis: redis.url, spool: { enabled: true } });
  const a = await startInstance(config, { instanceId: 'a' });
  t.after(() => a.close());
  const b = await startInstance(config, { instanceId: 'b' });
  t.after(() => b.close());
  const bodies = new Map<string, Buffer>();
  const spoolStart = performance.now();
  await Promise.all(Array.from({ length: 10 }, async (_, lane) => {
    for (let i = lane; i < 100; i += 10) {
      const requestId = `wh-${i}`;
      const body = randomBytes(1 + ((i * 7919) % 20_000));
      bodies.set(requestId, body);
      const answer = await postWebhook(`${(i % 2 === 0 ? a : b).url}/webhooks/payment/x`, ['Host', 'pay.example', 'X-Request-Id', requestId], body);
      assert.equal(answer.status, 202);
    }
  }));
  const spoolMs = performance.now() - spoolStart;
  const client = spoolObserver(t, redis.port);
  const keys = spoolKeys('sy:', webhookRoute);
  const order = (await client.xrange(keys.stream, '-', '+')).map(([, f]) => f[f.indexOf('rid') + 1]);
  assert.equal(order.length, 100);

  await primary.start();
  const replayStart = performance.now();
  await waitFor('delivered', async () => primary.arrivals.length >= 100 && await client.xlen(keys.stream) === 0);
  const replayMs = performance.now() - replayStart;
  t.diagnostic(`spooled 100 webhooks (1 B-20 KiB, 10 concurrent, two instances) in ${spoolMs.toFixed(0)} ms; replayed in ${replayMs.toFixed(0)} ms, including up to one backoff (≤400 ms) before noticing the primary`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(primary.arrivals.map((x) => x.headers['x-request-id']), order, 'each once, in spool order');
  for (const arrival of primary.arrivals) assert.equal(arrival.sha256, sha256(bodies.get(String(arrival.headers['x-request-id']))!));
  const delivered = [a, b].map((i) => i.webhooks.status()[0].deliveredHere);
  assert.equal(delivered[0] + delivered[1], 100);
  assert.ok(delivered.includes(0), `one replayer for the fleet (a: ${delivered[0]}, b: ${delivered[1]})`);
  const holder = delivered[0] === 100 ? 'a' : 'b';
  assert.equal(a.webhooks.status()[0].replayer, holder, 'status names the replaying instance');
});

test('on Redis Cluster the spool keys of a route share one slot: append, byte cap and replay work as on one server', async (t) => {
  const cluster = await startRedisCluster(t);
  const primary = await startPrimary(t, true);
  const gw = await startInstance(webhookConfig({
    primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', redis: cluster.url, spool: { enabled: true },
  }));
  t.after(() => gw.close());
  const sent: string[] = [];
  for (let i = 0; i < 10; i++) {
    const body = randomBytes(1000 + i);
    assert.equal((await postWebhook(`${gw.url}/webhooks/payment/x`, ['Host', 'pay.example', 'X-Request-Id', `c-${i}`], body)).status, 202);
    sent.push(sha256(body));
  }
  await waitFor('status reads the backlog', () => gw.webhooks.status()[0]?.depth === 10);
  await primary.start();
  await waitFor('delivered', () => primary.arrivals.length === 10 && gw.webhooks.status()[0]?.depth === 0);
  assert.deepEqual(primary.arrivals.map((a) => a.sha256), sent);
  assert.equal(gw.webhooks.status()[0].bytes, 0);
});
