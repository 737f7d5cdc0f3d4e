import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { startInstance, type Instance } from '../spool/instance.ts';
import { startPrimary } from '../spool/primary.ts';
import { postWebhook, sha256, snapshotOf, webhookConfig, webhookRoute, type Reply } from '../spool/fixtures.ts';
import { startUpstream } from '../helpers/upstream.ts';

/** Flips dials, drains and breakers of the other clusters every few ms until stopped. */
function flipOthers(gw: Instance): () => void {
  let step = 0;
  const timer = setInterval(() => {
    step++;
    const drained = step % 2 === 0;
    gw.snapshot = snapshotOf({ 'trade-south': { drained }, 'promo-standby': { drained: !drained } },
      { storefront: (step * 37) % 101, [webhookRoute]: (step * 53) % 101 });
    gw.breakerStates.set('trade-south', step % 3 === 0 ? 'open' : 'closed');
    gw.breakerStates.set('promo-standby', step % 3 === 1 ? 'open' : 'half-open');
  }, 3);
  return () => clearInterval(timer);
}

function assertRefused(answer: Reply, requestId: string): void {
  assert.equal(answer.status, 503, requestId);
  assert.equal(answer.headers['retry-after'], '30');
  assert.equal(answer.json().error, 'pinned_cluster_unavailable');
  assert.equal(answer.json().requestId, requestId);
  assert.equal(answer.headers['x-switchyard-cluster'], 'none');
}

test('primary down: every webhook gets 503 + Retry-After and a reconcilable log line; other clusters get none while their state flips', async (t) => {
  const primary = await startPrimary(t, true);
  const south = await startUpstream(t, 'south');
  const standby = await startUpstream(t, 'standby');
  const gw = await startInstance(webhookConfig({ primary: [primary.url], south: south.url, standby: standby.url }));
  t.after(() => gw.close());
  const stopFlipping = flipOthers(gw);
  const sent = new Map<string, Buffer>();
  const total = 60;
  const concurrency = 6;
  await Promise.all(Array.from({ length: concurrency }, async (_, lane) => {
    for (let i = lane; i < total; i += concurrency) {
      const requestId = `wh-${i}`;
      const body = randomBytes(1 + ((i * 7919) % 200_000));
      sent.set(requestId, body);
      assertRefused(await postWebhook(`${gw.url}/webhooks/payment/stripe?token=secret`, ['Host', 'pay.example', 'X-Request-Id', requestId], body, i % 2 === 0), requestId);
    }
  }));
  stopFlipping();
  assert.equal(south.count() + standby.count(), 0, 'no webhook went to another cluster');
  const refusals = gw.logs.filter((l) => l.msg === 'pinned webhook refused');
  assert.equal(refusals.length, total, 'one log line per refused webhook');
  for (const line of refusals) {
    assert.equal(line.level, 'warn');
    assert.equal(line.route, webhookRoute);
    assert.equal(line.path, '/webhooks/payment/stripe', 'the path without its query (it may carry tokens)');
    assert.equal(line.bodySha256, sha256(sent.get(line.requestId as string)!), `${line.requestId as string}: digest of the body`);
    assert.equal(line.reason, 'endpoints_refused');
  }
  assert.equal(gw.refused.length, total, 'counted per route');
  assert.ok(gw.refused.every((r) => r === webhookRoute));
  const records = gw.records.filter((r) => r.route === webhookRoute);
  assert.equal(records.length, total);
  assert.ok(records.every((r) => r.status === 503 && r.errorCode === 'pinned_cluster_unavailable' && r.cluster === undefined));
});

test('primary drained or its breaker open: refused at decision time, the body still hashed for the log, the primary untouched', async (t) => {
  const primary = await startPrimary(t);
  const gw = await startInstance(webhookConfig({ primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9' }));
  t.after(() => gw.close());
  const cases = [
    { reason: 'drained', apply: () => { gw.snapshot = snapshotOf({ 'trade-east': { drained: true } }); } },
    { reason: 'breaker_open', apply: () => { gw.snapshot = snapshotOf({}); gw.breakerStates.set('trade-east', 'open'); } },
  ];
  for (const [i, c] of cases.entries()) {
    c.apply();
    const body = randomBytes(70_000);
    const requestId = `decided-${i}`;
    assertRefused(await postWebhook(`${gw.url}/webhooks/payment/x?sig=1`, ['Host', 'pay.example', 'X-Request-Id', requestId], body, true), requestId);
    const line = gw.logs.find((l) => l.requestId === requestId)!;
    assert.equal(line.reason, c.reason);
    assert.equal(line.bodySha256, sha256(body));
    assert.equal(line.bodyBytes, body.length);
  }
  assert.equal(primary.arrivals.length, 0);
  gw.breakerStates.clear();
  assert.equal((await postWebhook(`${gw.url}/webhooks/payment/x`, ['Host', 'pay.example'], Buffer.from('{}'))).status, 200, 'back once available');
});

test('a webhook refused at decision time whose client leaves mid-body is recorded 499, not 200', async (t) => {
  const primary = await startPrimary(t);
  const gw = await startInstance(webhookConfig({ primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9' }));
  t.after(() => gw.close());
  gw.snapshot = snapshotOf({ 'trade-east': { drained: true } });
  const client = connect(Number(new URL(gw.url).port), '127.0.0.1');
  client.on('error', () => {});
  await new Promise((resolve) => client.once('connect', resolve));
  client.write('POST /webhooks/payment/x HTTP/1.1\r\nHost: pay.example\r\nX-Request-Id: gone-1\r\nContent-Length: 100000\r\n\r\n');
  client.write(Buffer.alloc(1000));
  await new Promise((resolve) => setTimeout(resolve, 200));
  client.destroy();
  const deadline = Date.now() + 5000;
  while (!gw.records.some((r) => r.requestId === 'gone-1') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const record = gw.records.find((r) => r.requestId === 'gone-1');
  assert.ok(record, 'the request is recorded');
  assert.equal(record.status, 499);
  assert.equal(primary.arrivals.length, 0);
});

