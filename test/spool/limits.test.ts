import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRedis } from '../helpers/redis.ts';
import { startInstance } from './instance.ts';
import { startPrimary } from './primary.ts';
import { postWebhook, snapshotOf, spoolObserver, waitFor, webhookConfig, webhookRoute, type Reply } from './fixtures.ts';
import { spoolKeys } from '../../src/spool/keys.ts';

const hook = (url: string, body: Buffer, requestId: string): Promise<Reply> =>
  postWebhook(`${url}/webhooks/payment/x`, ['Host', 'pay.example', 'X-Request-Id', requestId], body);

test('past spool.maxBytes: 503 spool_full with Retry-After, logged and counted; room again once delivered', async (t) => {
  const redis = await startRedis(t);
  const primary = await startPrimary(t, true);
  const gw = await startInstance(webhookConfig({
    primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', redis: redis.url,
    spool: { enabled: true, maxBytes: 8000 },
  }));
  t.after(() => gw.close());
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const answer = await hook(gw.url, randomBytes(3000), `full-${i}`);
    statuses.push(answer.status);
    if (answer.status === 503) {
      assert.equal(answer.json().error, 'spool_full');
      assert.equal(answer.headers['retry-after'], '30');
    }
  }
  assert.deepEqual(statuses, [202, 202, 503, 503], 'two entries of ~3.3 kB fit in 8000 bytes');
  const refusals = gw.logs.filter((l) => l.msg === 'pinned webhook refused');
  assert.deepEqual(refusals.map((l) => [l.error, l.requestId]), [['spool_full', 'full-2'], ['spool_full', 'full-3']]);
  assert.ok(refusals.every((l) => typeof l.bodySha256 === 'string'));
  assert.deepEqual(gw.refused, [webhookRoute, webhookRoute]);
  await primary.start();
  await waitFor('delivered', () => primary.arrivals.length === 2);
  await primary.stop();
  assert.equal((await hook(gw.url, randomBytes(3000), 'after')).status, 202, 'delivered entries give their bytes back');
});

test('Redis down or frozen: 503 pinned_cluster_unavailable, never a 202; spooling resumes when Redis is back', async (t) => {
  const redis = await startRedis(t);
  const primary = await startPrimary(t, true);
  const gw = await startInstance(webhookConfig({
    primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', redis: redis.url, spool: { enabled: true },
  }));
  t.after(() => gw.close());
  assert.equal((await hook(gw.url, randomBytes(100), 'before')).status, 202);

  await redis.kill();
  const down = await Promise.all(Array.from({ length: 20 }, (_, i) => hook(gw.url, randomBytes(5000), `down-${i}`)));
  for (const answer of down) {
    assert.equal(answer.status, 503);
    assert.equal(answer.json().error, 'pinned_cluster_unavailable');
    assert.equal(answer.headers['retry-after'], '30');
  }
  assert.equal(gw.logs.filter((l) => l.msg === 'pinned webhook refused' && String(l.requestId).startsWith('down-')).length, 20);

  // The replayer polls every 50 ms here: an outage is logged once per distinct error, not per cycle.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const cycleFailures = gw.logs.filter((l) => String(l.msg).startsWith('spool replay cycle failed'));
  assert.ok(cycleFailures.length >= 1 && cycleFailures.length <= 5, `${cycleFailures.length} replay failure lines for one outage`);
  assert.equal(new Set(cycleFailures.map((l) => (l.err as { message: string }).message)).size, cycleFailures.length, 'each error once');

  await redis.restart();
  await waitFor('spooling again', async () => (await hook(gw.url, randomBytes(100), 'again')).status === 202, 8000);
  await waitFor('the replayer says it resumed', () => gw.logs.some((l) => String(l.msg).startsWith('spool replay resumed')), 8000);

  redis.pause();
  const frozen = await Promise.all([0, 1, 2].map((i) => hook(gw.url, randomBytes(100), `frozen-${i}`)));
  redis.resume();
  assert.deepEqual(frozen.map((a) => a.status), [503, 503, 503], 'a command timeout is a refusal, not a 202');
  assert.equal(gw.records.filter((r) => r.route === webhookRoute && r.status === 202).length, gw.spooled.length, 'every 202 was a counted append');
});

test('entries older than maxAgeSeconds move to the dead-letter stream, even while the primary stays down', async (t) => {
  const redis = await startRedis(t);
  const primary = await startPrimary(t, true);
  const gw = await startInstance(webhookConfig({
    primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', redis: redis.url,
    spool: { enabled: true, maxAgeSeconds: 1 },
  }));
  t.after(() => gw.close());
  for (let i = 0; i < 5; i++) assert.equal((await hook(gw.url, randomBytes(1000), `old-${i}`)).status, 202);
  const client = spoolObserver(t, redis.port);
  const keys = spoolKeys('sy:', webhookRoute);
  await waitFor('dead-lettered', async () => await client.xlen(keys.dead) === 5, 5000);
  assert.equal(await client.xlen(keys.stream), 0);
  assert.equal(await client.exists(keys.bytes), 0);
  const dead = await client.xrange(keys.dead, '-', '+');
  assert.deepEqual(dead.map(([, f]) => f[f.indexOf('rid') + 1]), ['old-0', 'old-1', 'old-2', 'old-3', 'old-4'], 'in order');
  assert.ok(dead.every(([, f]) => f[f.indexOf('reason') + 1] === 'max_age'));
  await primary.start();
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(primary.arrivals.length, 0, 'dead letters are not delivered');
});

test('a burst waits for one of a few write slots, then gets 503 spool_full: memory stays bounded by slots × maxBodyBytes', async (t) => {
  const redis = await startRedis(t);
  const primary = await startPrimary(t, true);
  const gw = await startInstance(webhookConfig({
    primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', redis: redis.url, spool: { enabled: true },
  }), { tuning: { writeSlots: 2, slotWaitMs: 200, commandTimeoutMs: 1000 } });
  t.after(() => gw.close());
  redis.pause(); // the two writes holding the slots hang until their command timeout
  const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => hook(gw.url, randomBytes(10_000), `burst-${i}`)));
  redis.resume();
  const codes = answers.map((a) => a.json().error).sort();
  assert.deepEqual(codes, ['pinned_cluster_unavailable', 'pinned_cluster_unavailable', 'spool_full', 'spool_full', 'spool_full', 'spool_full']);
  assert.ok(answers.every((a) => a.status === 503));
});

test('a spooling route still answers 413 past maxBodyBytes, declared or streamed', async (t) => {
  const redis = await startRedis(t);
  const primary = await startPrimary(t);
  const gw = await startInstance(webhookConfig({
    primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', redis: redis.url, spool: { enabled: true }, maxBodyBytes: 10_000,
  }));
  t.after(() => gw.close());
  gw.snapshot = snapshotOf({ 'trade-east': { drained: true } });
  for (const chunked of [false, true]) {
    const answer = await postWebhook(`${gw.url}/webhooks/payment/x`, ['Host', 'pay.example'], randomBytes(10_001), chunked);
    assert.equal(answer.status, 413);
    assert.equal(answer.json().error, 'payload_too_large');
  }
  assert.equal((await hook(gw.url, randomBytes(10_000), 'fits')).status, 202);
  assert.equal(gw.spooled.length, 1);
});
