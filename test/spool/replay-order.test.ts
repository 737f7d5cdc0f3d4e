import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRedis } from '../helpers/redis.ts';
import { startInstance } from './instance.ts';
import { startPrimary } from './primary.ts';
import { endToEndHeaders, postWebhook, sha256, signatureHeaders, spoolObserver, waitFor, webhookConfig, webhookRoute } from './fixtures.ts';
import { spooledAtHeader } from '../../src/spool/delivery.ts';
import { spoolKeys } from '../../src/spool/keys.ts';


test('spooled during an outage, replayed in order once the primary is back: byte-identical, original request id, spooled-at; 5xx retried in place, 4xx dead-lettered', async (t) => {
  const redis = await startRedis(t);
  const primary = await startPrimary(t, true);
  const config = webhookConfig({ primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', redis: redis.url, spool: { enabled: true } });
  const gw = await startInstance(config);
  t.after(() => gw.close());
  const sent: { requestId: string; body: Buffer; id: string }[] = [];
  const startedAt = Date.now();
  for (let i = 0; i < 30; i++) {
    const requestId = `wh-${i}`;
    const body = randomBytes(1 + ((i * 104_729) % 300_000));
    const answer = await postWebhook(`${gw.url}/webhooks/payment/stripe?n=${i}`, signatureHeaders('pay.example', body, requestId), body, i % 2 === 1);
    assert.equal(answer.status, 202, requestId);
    const reply = answer.json<{ status: string; id: string; requestId: string }>();
    assert.equal(reply.status, 'spooled');
    assert.equal(reply.requestId, requestId);
    assert.match(reply.id, /^\d+-\d+$/);
    sent.push({ requestId, body, id: reply.id });
  }
  assert.equal(gw.spooled.length, 30);
  assert.ok(gw.records.filter((r) => r.route === webhookRoute).every((r) => r.status === 202 && r.errorCode === undefined && r.cluster === undefined));
  await waitFor('status shows the backlog', () => gw.webhooks.status()[0]?.depth === 30);
  const [status] = gw.webhooks.status();
  assert.equal(status.route, webhookRoute);
  assert.ok(status.oldestAgeSeconds! > 0 && status.bytes > sent.reduce((n, s) => n + s.body.length, 0));

  let answered = 0;
  primary.answer = (arrival, res) => {
    answered++;
    const status = answered <= 3 ? 503 : arrival.headers['x-request-id'] === 'wh-10' ? 400 : 200;
    res.writeHead(status).end();
  };
  await primary.start();
  await waitFor('backlog delivered', () => gw.webhooks.status()[0]?.depth === 0 && primary.arrivals.length >= 33);
  const accepted = primary.arrivals.slice(3);
  assert.deepEqual(primary.arrivals.slice(0, 3).map((a) => a.headers['x-request-id']), ['wh-0', 'wh-0', 'wh-0'], '5xx: the head is retried, nothing overtakes it');
  assert.deepEqual(accepted.map((a) => a.headers['x-request-id']), sent.map((s) => s.requestId), 'in arrival order, each once');
  for (const [i, arrival] of accepted.entries()) {
    const { body, requestId } = sent[i];
    assert.equal(arrival.sha256, sha256(body), `${requestId}: byte-identical body`);
    assert.equal(arrival.url, `/webhooks/payment/stripe?n=${i}`);
    assert.deepEqual(endToEndHeaders(arrival.rawHeaders), endToEndHeaders(signatureHeaders('pay.example', body, requestId)), `${requestId}: headers`);
    assert.equal(arrival.headers.host, 'pay.example');
    assert.equal(arrival.headers['x-request-id'], requestId);
    assert.equal(arrival.headers['x-forwarded-for'], '127.0.0.1');
    const spooledAt = Date.parse(String(arrival.headers[spooledAtHeader]));
    assert.ok(spooledAt >= startedAt - 5 && spooledAt <= Date.now(), `${requestId}: ${spooledAtHeader} is the original arrival time`);
  }
  const client = spoolObserver(t, redis.port);
  const keys = spoolKeys('sy:', webhookRoute);
  const dead = await client.xrange(keys.dead, '-', '+');
  assert.equal(dead.length, 1);
  const fields = Object.fromEntries(dead[0][1].reduce<string[][]>((pairs, v, j, all) => (j % 2 === 0 ? [...pairs, [v, all[j + 1]]] : pairs), []));
  assert.equal(fields.reason, 'rejected_400');
  assert.equal(fields.rid, 'wh-10');
  assert.equal(fields.spoolId, sent[10].id);
  assert.equal(await client.exists(keys.bytes), 0, 'every byte given back');
  assert.ok(gw.logs.some((l) => l.msg === 'spooled webhook dead-lettered' && l.requestId === 'wh-10' && l.level === 'warn'));
});
