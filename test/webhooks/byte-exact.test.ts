import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startInstance } from '../spool/instance.ts';
import { startPrimary } from '../spool/primary.ts';
import { endToEndHeaders, postWebhook, sha256, signatureHeaders, webhookConfig } from '../spool/fixtures.ts';
import { startUpstream } from '../helpers/upstream.ts';

/** The value of a header by case-insensitive name, or undefined. */
function valueOf(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

const sizes = [1, 2, 255, 4096, 65_537, 300_001, 1024 * 1024];

test('webhooks reach the primary byte for byte with signature headers untouched, Content-Length and chunked, 1 B to 1 MiB', async (t) => {
  const primary = await startPrimary(t);
  const others = [await startUpstream(t, 'south'), await startUpstream(t, 'standby')];
  const gw = await startInstance(webhookConfig({ primary: [primary.url], south: others[0].url, standby: others[1].url }));
  t.after(() => gw.close());
  const sent: { body: Buffer; headers: string[]; requestId: string }[] = [];
  for (const size of sizes) {
    for (const chunked of [false, true]) {
      const body = randomBytes(size);
      const requestId = `wh-${size}-${chunked ? 'c' : 'l'}`;
      const headers = signatureHeaders('pay.example', body, requestId);
      const answer = await postWebhook(`${gw.url}/webhooks/payment/stripe?token=abc`, headers, body, chunked);
      assert.equal(answer.status, 200, `${size} B ${chunked ? 'chunked' : 'sized'}`);
      assert.equal(answer.headers['x-switchyard-cluster'], 'trade-east');
      sent.push({ body, headers: chunked ? headers : [...headers, 'Content-Length', String(size)], requestId });
    }
  }
  assert.equal(primary.arrivals.length, sent.length);
  for (const [i, arrival] of primary.arrivals.entries()) {
    const { body, headers, requestId } = sent[i];
    assert.equal(arrival.sha256, sha256(body), `${requestId}: body digest`);
    assert.equal(arrival.url, '/webhooks/payment/stripe?token=abc');
    assert.deepEqual(endToEndHeaders(arrival.rawHeaders), endToEndHeaders(headers), `${requestId}: header names, case, order and values`);
    // undici writes these two itself (lower case, Host first, Content-Length last): values pass unchanged.
    for (const framing of ['host', 'content-length']) assert.equal(valueOf(arrival.rawHeaders, framing), valueOf(headers, framing));
    assert.equal(arrival.headers['x-request-id'], requestId, 'the client\'s request id is kept');
    assert.equal(arrival.headers['x-forwarded-for'], '127.0.0.1');
  }
  assert.equal(others[0].count() + others[1].count(), 0, 'no webhook reaches another cluster');
});

test('a single flipped byte is detected: the digest and the provider signature no longer match', async (t) => {
  const secret = 'whsec_test';
  const primary = await startPrimary(t);
  const gw = await startInstance(webhookConfig({ primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9' }));
  t.after(() => gw.close());
  const body = Buffer.from(JSON.stringify({ id: 'evt_1', amount: 4200, currency: 'cny' }));
  const signature = createHmac('sha256', secret).update(body).digest('hex');
  const answer = await postWebhook(`${gw.url}/webhooks/payment/stripe`, ['Host', 'pay.example', 'Stripe-Signature', `t=1,v1=${signature}`], body);
  assert.equal(answer.status, 200);
  const received = primary.arrivals[0].body;
  const verify = (payload: Buffer) => createHmac('sha256', secret).update(payload).digest('hex') === signature;
  assert.equal(sha256(received), sha256(body));
  assert.ok(verify(received), 'the primary verifies the signature on what it received');
  const flipped = Buffer.from(received);
  flipped[7] ^= 0x01;
  assert.notEqual(sha256(flipped), sha256(body), 'one flipped bit changes the digest the tests compare');
  assert.equal(verify(flipped), false, 'and breaks the provider signature');
});

test('maxBodyBytes is enforced while streaming: 413 payload_too_large, declared or chunked', async (t) => {
  const primary = await startPrimary(t);
  const gw = await startInstance(webhookConfig({ primary: [primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9', maxBodyBytes: 64 * 1024 }));
  t.after(() => gw.close());
  const tooBig = randomBytes(64 * 1024 + 1);
  const declared = await postWebhook(`${gw.url}/webhooks/payment/x`, ['Host', 'pay.example'], tooBig);
  assert.equal(declared.status, 413);
  assert.equal(declared.json().error, 'payload_too_large');
  assert.equal(primary.arrivals.length, 0, 'a declared oversized body is never forwarded');
  const chunked = await postWebhook(`${gw.url}/webhooks/payment/x`, ['Host', 'pay.example'], tooBig, true);
  assert.equal(chunked.status, 413, 'no length declared: cut once the cap is passed');
  assert.equal(chunked.json().error, 'payload_too_large');
  assert.ok(primary.arrivals.every((a) => a.body.length <= 64 * 1024), 'the primary never gets a complete oversized body');
  const exact = randomBytes(64 * 1024);
  assert.equal((await postWebhook(`${gw.url}/webhooks/payment/x`, ['Host', 'pay.example'], exact, true)).status, 200);
  assert.equal(primary.arrivals.at(-1)!.sha256, sha256(exact));
});

test('inside the pinned cluster a refused endpoint passes the webhook on; one that took the body does not', async (t) => {
  const primary = await startPrimary(t);
  const refusing = await startPrimary(t, true);
  const gw = await startInstance(webhookConfig({ primary: [refusing.url, primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9' }));
  t.after(() => gw.close());
  for (let i = 0; i < 4; i++) {
    const body = randomBytes(1000);
    const answer = await postWebhook(`${gw.url}/webhooks/payment/x`, ['Host', 'pay.example'], body);
    assert.equal(answer.status, 200);
    assert.equal(primary.arrivals.at(-1)!.sha256, sha256(body));
  }
  assert.equal(primary.arrivals.length, 4, 'each webhook once');

  // An endpoint that reads the request and then resets: the body was written, so no other endpoint may get it.
  const sockets = new Set<Socket>();
  const resetting = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => { for (const s of sockets) s.destroy(); resetting.close(resolve); }));
  const resettingUrl = `http://127.0.0.1:${(resetting.address() as AddressInfo).port}`;
  const gw2 = await startInstance(webhookConfig({ primary: [resettingUrl, primary.url], south: 'http://127.0.0.1:9', standby: 'http://127.0.0.1:9' }));
  t.after(() => gw2.close());
  const before = primary.arrivals.length;
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await postWebhook(`${gw2.url}/webhooks/payment/x`, ['Host', 'pay.example'], randomBytes(2000))).status);
  assert.equal(statuses.filter((s) => s === 502).length, 2, 'round robin: the two sent to the resetting endpoint fail');
  assert.equal(primary.arrivals.length - before, 2, 'and are not sent again to the other endpoint');
});
