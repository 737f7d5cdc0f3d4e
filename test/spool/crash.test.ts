import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRedis } from '../helpers/redis.ts';
import { startPrimary } from './primary.ts';
import { postWebhook, sha256, spawnInstance, spoolObserver, waitFor, webhookConfig, webhookRoute, type ChildInstance } from './fixtures.ts';
import { spoolKeys } from '../../src/spool/keys.ts';

const total = 500;
const lanes = 10;

/**
 * Checks that `arrivals` is `spooled` in order where an entry may arrive again right after itself (a
 * replayer crashed between delivering and acknowledging it); returns how many arrived again.
 */
function redeliveries(arrivals: readonly string[], spooled: readonly string[]): number {
  let next = 0;
  let again = 0;
  for (const [i, rid] of arrivals.entries()) {
    if (rid === spooled[next]) next++;
    else if (next > 0 && rid === spooled[next - 1]) again++;
    else assert.fail(`arrival ${i} is ${rid}, expected ${spooled[next]}: out of order`);
  }
  assert.equal(next, spooled.length, 'every spooled entry arrived');
  return again;
}

test('500 webhooks through an outage with an instance crashed and restarted, then the replaying instance crashed: all delivered in order, byte-identical', async (t) => {
  const redis = await startRedis(t);
  const primary = await startPrimary(t, true);
  primary.answer = (_arrival, res) => setTimeout(() => res.writeHead(200).end(), 1);
  const config = webhookConfig({ primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', redis: redis.url, spool: { enabled: true } });
  const instances: (ChildInstance | undefined)[] = await Promise.all([spawnInstance(t, config, 'a'), spawnInstance(t, config, 'b')]);
  const bodies = new Map<string, Buffer>();
  let accepted = 0;
  let providerRetries = 0;

  // The provider: every webhook is retried (on the other instance) until it gets a 202.
  const deliverOne = async (i: number) => {
    const requestId = `wh-${i}`;
    const body = randomBytes(1 + ((i * 7919) % 65_536));
    bodies.set(requestId, body);
    for (let attempt = 0; ; attempt++) {
      const target = instances[(i + attempt) % 2] ?? instances[(i + attempt + 1) % 2]!;
      const answer = await postWebhook(`${target.url}/webhooks/payment/stripe`, ['Host', 'pay.example', 'Stripe-Signature', `v1=${sha256(body)}`, 'X-Request-Id', requestId], body, i % 3 === 0)
        .catch(() => undefined);
      if (answer?.status === 202) return void accepted++;
      providerRetries++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const crashAndRestart = async () => {
    await waitFor('a third accepted', () => accepted >= total / 3);
    const a = instances[0]!;
    instances[0] = undefined;
    await a.kill();
    instances[0] = await spawnInstance(t, config, 'a-restarted');
  };
  const spoolStart = performance.now();
  await Promise.all([
    crashAndRestart(),
    ...Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < total; i += lanes) await deliverOne(i);
    }),
  ]);
  const spoolMs = performance.now() - spoolStart;

  const client = spoolObserver(t, redis.port);
  const keys = spoolKeys('sy:', webhookRoute);
  const spooled = (await client.xrange(keys.stream, '-', '+')).map(([, f]) => f[f.indexOf('rid') + 1]);
  assert.equal(new Set(spooled).size, total, 'every webhook is in the spool');

  const replayStart = performance.now();
  await primary.start();
  await waitFor('a third replayed', () => primary.arrivals.length >= total / 3);
  const holder = await client.get(keys.lease);
  const replaying = instances.find((i) => i !== undefined && i.logs.some((l) => l.msg === 'spooled webhook delivered'))!;
  await replaying.kill();
  await waitFor('backlog drained', async () => await client.xlen(keys.stream) === 0 && primary.arrivals.length >= spooled.length, 20_000);
  const replayMs = performance.now() - replayStart;
  await new Promise((resolve) => setTimeout(resolve, 200));

  const arrived = primary.arrivals.map((a) => String(a.headers['x-request-id']));
  const again = redeliveries(arrived, spooled);
  for (const arrival of primary.arrivals) {
    assert.equal(arrival.sha256, sha256(bodies.get(String(arrival.headers['x-request-id']))!), 'byte-identical');
  }
  const spooledTwice = spooled.length - total;
  t.diagnostic(`spooled ${total} webhooks in ${spoolMs.toFixed(0)} ms (${(total / spoolMs * 1000).toFixed(0)}/s, ${lanes} concurrent, bodies 1 B-64 KiB), provider retries ${providerRetries}`);
  t.diagnostic(`replayed ${arrived.length} deliveries in ${replayMs.toFixed(0)} ms including a replayer crash (lease holder ${holder})`);
  t.diagnostic(`duplicates: ${spooledTwice} spooled twice (202 lost in the crash, provider retried), ${again} redelivered after the replayer crash`);
  assert.ok(again <= 1, 'a crashed replayer redelivers at most the entry it had in flight');
});
