/**
 * Slow clients (SPEC §9, `limits`): a client that dribbles its headers is cut at `headersTimeoutMs`, one
 * that dribbles its body at `requestTimeoutMs`, each with 408; a connection idle between requests is
 * not (that is keep-alive), a slow upstream is not (the client sent everything), and other clients are
 * served at full speed meanwhile.
 */
import { test } from 'node:test';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { backgroundTraffic, parseResponses, trickle } from './raw-http.ts';

const headersTimeoutMs = 300;
const requestTimeoutMs = 800;
/** Node looks for expired connections every headersTimeoutMs / 4 (traffic-app); allow that and some scheduling. */
const slackMs = 1000;

function config(upstream: Upstream): ConfigInput {
  return {
    regions: { here: { location: [31.23, 121.47] } },
    clusters: { main: { region: 'here', endpoints: [upstream.url] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' } }],
    limits: { headersTimeoutMs, requestTimeoutMs },
  };
}

test('slowloris headers and slow bodies are cut with 408 on time while other clients are served', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, config(upstream));
  const loop = backgroundTraffic(`${gw.url}/normal`);
  const slowHeaders = Array.from({ length: 20 }, (_, i) =>
    trickle(gw.port, `GET /loris-${i} HTTP/1.1\r\nHost: a\r\n`, 'X-Slow: 1\r\n', 50, 5000));
  const slowBodies = Array.from({ length: 10 }, (_, i) =>
    trickle(gw.port, `POST /trickle-${i} HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n`, 'x', 50, 5000));
  const headerResults = await Promise.all(slowHeaders);
  const bodyResults = await Promise.all(slowBodies);
  const tally = await loop.stop();

  for (const result of headerResults) {
    assert.ok(result.closed, 'a slowloris connection is closed by the gateway');
    assert.equal(parseResponses(result.text)[0]?.status, 408);
    assert.ok(result.elapsedMs >= headersTimeoutMs && result.elapsedMs < headersTimeoutMs + slackMs, `cut after ${result.elapsedMs} ms`);
  }
  for (const result of bodyResults) {
    assert.ok(result.closed, 'a slow body is cut');
    assert.equal(parseResponses(result.text)[0]?.status, 408);
    assert.equal(JSON.parse(parseResponses(result.text)[0].body).error, 'request_timeout');
    assert.ok(result.elapsedMs >= requestTimeoutMs && result.elapsedMs < requestTimeoutMs + slackMs, `cut after ${result.elapsedMs} ms`);
  }
  assert.deepEqual(upstream.received.filter((r) => r.url !== '/normal'), [], 'no cut request completed upstream');
  assert.equal(tally.failed, 0, `background failures: ${tally.failures.join(', ')}`);
  assert.ok(tally.slowestMs < 1000, `the slowest background answer took ${tally.slowestMs} ms`);
  await waitUntil(() => gw.gateway.inflight === 0);
  assert.equal(gw.gateway.inflight, 0, 'cut requests leave nothing in flight');
  // Slow headers never reached the gateway: listener refusals, each counted once. Slow bodies did:
  // the gateway's records say what their clients were sent.
  assert.deepEqual(gw.refusals, Array(20).fill('request_timeout'));
  const cut = gw.records.filter((r) => r.path.startsWith('/trickle-'));
  assert.deepEqual(cut.map((r) => r.status), Array(10).fill(408));
  // Each 408 names the request id the gateway's record (and access line) has.
  const answered = bodyResults.map((result) => JSON.parse(parseResponses(result.text)[0].body).requestId as string);
  assert.deepEqual(answered.toSorted(), cut.map((r) => r.requestId).toSorted());
});

test('a client that closes its side after its 408 is one refusal, not two', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, config(upstream));
  const client = connect(gw.port, '127.0.0.1');
  client.on('error', () => {});
  client.write('GET /half HTTP/1.1\r\nHost: a\r\n');
  const answer = await new Promise<string>((resolve) => client.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
  assert.match(answer, /^HTTP\/1\.1 408 /);
  // The parser sees an unfinished message at EOF: Node raises a second client error on the socket.
  client.end();
  await new Promise((resolve) => client.once('close', resolve));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(gw.refusals, ['request_timeout']);
});

test('a body sent slowly but within requestTimeoutMs is served', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, config(upstream));
  const pieces = ['he', 'll', 'o!'];
  const slow = await sendSlowly(gw.port, 'POST /steady HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nConnection: close\r\n\r\n', pieces, 150);
  assert.equal(parseResponses(slow)[0]?.status, 200);
  assert.equal(upstream.received.at(-1)?.body.toString(), 'hello!');
});

test('a keep-alive connection idle between requests and a slow upstream are not cut', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, config(upstream));
  upstream.behave((req, res) => setTimeout(() => res.end(req.url), req.url === '/slow-upstream' ? requestTimeoutMs * 1.5 : 0));
  const first = 'GET /first HTTP/1.1\r\nHost: a\r\n\r\n';
  const text = await sendSlowly(gw.port, first, ['GET /slow-upstream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'], requestTimeoutMs * 1.5);
  assert.deepEqual(parseResponses(text).map((r) => `${r.status} ${r.body}`), ['200 /first', '200 /slow-upstream']);
});

/** Writes `head`, then each piece `intervalMs` apart, and reads until the gateway closes the connection. */
async function sendSlowly(port: number, head: string, pieces: readonly string[], intervalMs: number): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timers: NodeJS.Timeout[] = [];
    const guard = setTimeout(() => socket.destroy(new Error(`no close; got ${JSON.stringify(text)}`)), intervalMs * (pieces.length + 1) + 3000);
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(guard);
      for (const timer of timers) clearTimeout(timer);
      resolve(text);
    });
    socket.write(head);
    pieces.forEach((piece, i) => timers.push(setTimeout(() => socket.write(piece), intervalMs * (i + 1))));
  });
}

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
