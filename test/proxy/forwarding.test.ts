import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { send, sha256 } from '../helpers/client.ts';

const regions = { here: { location: [31.23, 121.47] as [number, number] } };

function oneCluster(upstream: Upstream | string, extra: Partial<ConfigInput> = {}): ConfigInput {
  const endpoint = typeof upstream === 'string' ? upstream : upstream.url;
  return {
    trustedProxies: ['127.0.0.1/32'],
    regions,
    clusters: { main: { region: 'here', role: 'primary', endpoints: [endpoint] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' } }],
    ...extra,
  };
}

/** An address nothing listens on. */
const deadEndpoint = 'http://127.0.0.1:9';

test('a GET is forwarded with forwarding headers and answered with the gateway\'s headers', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, oneCluster(upstream));
  const answer = await send(`${gw.url}/cart?x=1`, {
    headers: {
      host: 'shop.example', 'x-forwarded-for': '203.0.113.9', 'x-switchyard-cluster': 'evil', 'x-geo-country': 'XX',
      connection: 'keep-alive, x-private', 'x-private': 'secret', te: 'trailers', 'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic abc', 'x-request-id': 'req-123',
    },
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['x-switchyard-cluster'], 'main');
  assert.equal(answer.headers['x-switchyard-route'], 'all');
  assert.equal(answer.headers['x-request-id'], 'req-123');
  const seen = upstream.received[0];
  assert.equal(seen.url, '/cart?x=1');
  assert.equal(seen.headers.host, 'shop.example');
  assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['x-forwarded-host'], 'shop.example');
  assert.equal(seen.headers['x-request-id'], 'req-123');
  for (const gone of ['x-switchyard-cluster', 'x-geo-country', 'x-private', 'te', 'keep-alive', 'proxy-authorization']) {
    assert.equal(seen.headers[gone], undefined, `${gone} must not reach the upstream`);
  }
});

test('an untrusted peer\'s X-Forwarded-For is replaced, and an insane request id is regenerated', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, { ...oneCluster(upstream), trustedProxies: [] });
  const answer = await send(gw.url, { headers: { 'x-forwarded-for': '1.2.3.4', 'x-request-id': 'bad id\twith spaces' } });
  assert.equal(answer.status, 200);
  assert.equal(upstream.received[0].headers['x-forwarded-for'], '127.0.0.1');
  assert.match(String(answer.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(gw.records[0].clientIp, '127.0.0.1');
});

test('5 MiB request and response bodies pass byte for byte, Content-Length and chunked', async (t) => {
  const upstream = await startUpstream(t, 'main', (req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-body-sha256': sha256(body) });
    res.end(body);
  });
  const gw = await startGateway(t, oneCluster(upstream));
  const payload = randomBytes(5 * 1024 * 1024);
  const sized = await send(gw.url, { method: 'POST', body: payload, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(sized.status, 200);
  assert.equal(sized.headers['x-body-sha256'], sha256(payload));
  assert.equal(sized.sha256(), sha256(payload));
  async function* chunks() {
    for (let i = 0; i < payload.length; i += 64 * 1024) yield payload.subarray(i, i + 64 * 1024);
  }
  const chunked = await send(gw.url, { method: 'PUT', body: chunks() });
  assert.equal(chunked.status, 200);
  assert.equal(chunked.sha256(), sha256(payload));
  assert.equal(upstream.received[1].headers['transfer-encoding'], 'chunked', 'bodies are re-framed, not buffered');
});

test('hop-by-hop headers from the upstream are dropped', async (t) => {
  const upstream = await startUpstream(t, 'main', (_req, res) => {
    res.setHeader('x-upstream-private', 'no');
    res.setHeader('connection', 'x-upstream-private');
    res.setHeader('x-switchyard-cluster', 'spoofed');
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.end('ok');
  });
  const gw = await startGateway(t, oneCluster(upstream));
  const answer = await send(gw.url);
  assert.equal(answer.headers['x-upstream-private'], undefined);
  assert.equal(answer.headers['x-switchyard-cluster'], 'main');
  assert.deepEqual(answer.headers['set-cookie'], ['a=1', 'b=2']);
});

test('nothing listening: 503 no_healthy_cluster as JSON with the request id', async (t) => {
  const gw = await startGateway(t, oneCluster(deadEndpoint));
  const answer = await send(gw.url);
  assert.equal(answer.status, 503);
  const body = answer.json();
  assert.equal(body.error, 'no_healthy_cluster');
  assert.equal(body.requestId, answer.headers['x-request-id']);
  assert.equal(answer.headers['x-switchyard-cluster'], 'none');
});

test('an upstream that dies after the request was written: 502 upstream_error', async (t) => {
  const upstream = await startUpstream(t, 'main', (req) => req.socket.destroy());
  const gw = await startGateway(t, oneCluster(upstream));
  const answer = await send(gw.url, { method: 'POST', body: 'x' });
  assert.equal(answer.status, 502);
  assert.equal(answer.json().error, 'upstream_error');
});

test('a slow upstream: 504 upstream_timeout after headersMs', async (t) => {
  const upstream = await startUpstream(t, 'main', (_req, res) => setTimeout(() => res.end('late'), 2000).unref());
  const config = oneCluster(upstream);
  config.clusters!.main.timeouts = { connectMs: 500, headersMs: 200, totalMs: 5000 };
  const gw = await startGateway(t, config);
  const started = Date.now();
  const answer = await send(gw.url, { method: 'POST', body: 'x' });
  assert.equal(answer.status, 504);
  assert.equal(answer.json().error, 'upstream_timeout');
  assert.ok(Date.now() - started < 1500);
});

test('a slow body is cut at totalMs', async (t) => {
  const upstream = await startUpstream(t, 'main', (_req, res) => {
    res.writeHead(200);
    res.write('start');
    const timer = setInterval(() => res.write('.'), 100);
    res.on('close', () => clearInterval(timer));
  });
  const config = oneCluster(upstream);
  config.clusters!.main.timeouts = { connectMs: 500, headersMs: 500, totalMs: 600 };
  const gw = await startGateway(t, config);
  await assert.rejects(send(gw.url), 'the client response is cut');
});

function twoClusters(first: Upstream | string, second: Upstream): ConfigInput {
  return {
    regions: { near: { location: [31.23, 121.47] }, far: { location: [23.13, 113.26] } },
    geo: { defaultRegion: 'near' },
    clusters: {
      first: { region: 'near', role: 'primary', endpoints: [typeof first === 'string' ? first : first.url] },
      second: { region: 'far', role: 'trade', endpoints: [second.url] },
    },
    routes: [{ name: 'all', match: { pathPrefix: '/' } }],
  };
}

test('a GET answered 503 is retried once on the next-best cluster', async (t) => {
  const first = await startUpstream(t, 'first', (_req, res) => res.writeHead(503).end('busy'));
  const second = await startUpstream(t, 'second');
  const gw = await startGateway(t, twoClusters(first, second));
  const answer = await send(gw.url);
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['x-switchyard-cluster'], 'second');
  assert.equal(first.count(), 1);
  assert.equal(gw.records[0].retries, 1);
});

test('a POST answered 503 is not retried; a 500 is never retried', async (t) => {
  const first = await startUpstream(t, 'first', (req, res) => res.writeHead(req.method === 'POST' ? 503 : 500).end('no'));
  const second = await startUpstream(t, 'second');
  const gw = await startGateway(t, twoClusters(first, second));
  assert.equal((await send(gw.url, { method: 'POST', body: 'order' })).status, 503);
  assert.equal((await send(gw.url)).status, 500);
  assert.equal(second.count(), 0);
});

test('a POST whose cluster refuses connections goes to the next cluster with its body intact', async (t) => {
  const second = await startUpstream(t, 'second');
  const gw = await startGateway(t, twoClusters(deadEndpoint, second));
  const body = randomBytes(200_000);
  const answer = await send(gw.url, { method: 'POST', body });
  assert.equal(answer.status, 200);
  assert.equal(answer.json().bodySha256, sha256(body));
});

test('maxBodyBytes: 413 payload_too_large by Content-Length and while streaming', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, { ...oneCluster(upstream), routes: [{ name: 'capped', match: { pathPrefix: '/' }, maxBodyBytes: 1000 }] });
  const declared = await send(gw.url, { method: 'POST', body: Buffer.alloc(2000) });
  assert.equal(declared.status, 413);
  assert.equal(declared.json().error, 'payload_too_large');
  async function* big() {
    for (let i = 0; i < 10; i++) yield Buffer.alloc(500);
  }
  const streamed = await send(gw.url, { method: 'POST', body: big() }).catch((err: Error) => err);
  if (!(streamed instanceof Error)) assert.equal(streamed.status, 413);
  assert.ok(upstream.received.every((r) => r.bodyBytes <= 1000), 'no upstream ever saw more than the cap');
  assert.equal((await send(gw.url, { method: 'POST', body: Buffer.alloc(999) })).status, 200);
});

test('a client gone mid-body: the upstream request is cut too, the gateway records 499 and keeps serving', async (t) => {
  const upstreamSaw: { bytes: number; complete: boolean }[] = [];
  const partReached = Promise.withResolvers<void>();
  const cut = Promise.withResolvers<void>();
  const server = createServer((req, res) => {
    const seen = { bytes: 0, complete: false };
    upstreamSaw.push(seen);
    req.on('data', (chunk: Buffer) => {
      seen.bytes += chunk.length;
      partReached.resolve();
    });
    req.on('end', () => {
      seen.complete = true;
      res.end('ok');
    });
    req.on('close', () => {
      if (!seen.complete) cut.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const gw = await startGateway(t, oneCluster(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  const client = connect(gw.port, '127.0.0.1');
  client.on('error', () => {});
  client.write('POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
  await partReached.promise;
  client.destroy();
  await cut.promise;
  assert.equal(upstreamSaw[0].complete, false, 'the upstream never sees a complete body the client did not send');
  assert.equal(upstreamSaw[0].bytes, 5);
  while (gw.records.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(gw.records[0].status, 499);
  assert.equal(gw.gateway.inflight, 0);
  const answer = await send(gw.url, { method: 'POST', body: 'next' });
  assert.equal(answer.status, 200);
});

test('an upstream that answers before the body is sent: the rest is dropped and the connection serves the next request', async (t) => {
  // Answers at once, without reading the body (an early 401).
  const early = createServer((req, res) => {
    if (req.method === 'POST') res.writeHead(401, { 'content-type': 'text/plain' }).end('no');
    else res.end('ok');
  });
  await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
  t.after(() => { early.closeAllConnections(); early.close(); });
  const gw = await startGateway(t, oneCluster(`http://127.0.0.1:${(early.address() as AddressInfo).port}`));
  const client = connect(gw.port, '127.0.0.1');
  let received = '';
  client.on('data', (chunk: Buffer) => { received += chunk.toString('latin1'); });
  client.on('error', () => {});
  const bodyBytes = 4 * 1024 * 1024;
  client.write(`POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${bodyBytes}\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let sent = 0; sent < bodyBytes; sent += chunk.length) client.write(chunk);
  client.write('GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    client.on('close', () => { clearTimeout(timer); resolve(true); });
  });
  client.destroy();
  const statuses = [...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [401, 200], `answers on the connection: ${received.slice(0, 200)}`);
  assert.ok(closed, 'the pipelined GET was answered and the connection closed as it asked, not left waiting');
});

test('an absolute-form target is treated as its path: the host in it never picks an upstream', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, oneCluster(upstream));
  const raw = await rawExchange(gw.port, 'GET http://evil.example:6666/secret?q=1 HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 200/);
  assert.equal(upstream.received[0].url, '/secret?q=1');
});

test('CONNECT is refused', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, oneCluster(upstream));
  const raw = await rawExchange(gw.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 405/);
  assert.equal(upstream.count(), 0);
});

test('Content-Length with Transfer-Encoding is a 400 and reaches no upstream', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, oneCluster(upstream));
  const raw = await rawExchange(gw.port,
    'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 400/);
  assert.equal(upstream.count(), 0);
});

test('Expect: 100-continue uploads work', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, oneCluster(upstream));
  const raw = await rawExchange(gw.port, 'PUT /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    'hello');
  assert.match(raw, /^HTTP\/1\.1 100 Continue/);
  assert.match(raw, /HTTP\/1\.1 200/);
  assert.equal(upstream.received[0].body.toString(), 'hello');
  assert.equal(upstream.received[0].headers.expect, undefined);
});

test('oversized headers: 431', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, { ...oneCluster(upstream), limits: { maxHeaderBytes: 2048 } });
  const raw = await rawExchange(gw.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
  assert.match(raw, /^HTTP\/1\.1 431/);
});

/** Writes raw bytes (the body after the first response bytes arrive, if given) and reads until close. */
function rawExchange(port: number, head: string, bodyAfterContinue?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('raw exchange timed out')));
    socket.on('data', (d) => {
      out += d.toString('latin1');
      if (bodyAfterContinue !== undefined && out.includes('100 Continue')) {
        socket.write(bodyAfterContinue);
        bodyAfterContinue = undefined;
      }
    });
    socket.on('end', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.on('error', (err) => (out === '' ? reject(err) : resolve(out)));
    socket.write(head);
  });
}

test('a retry after a reload goes to its own generation\'s cluster, never to whatever took its place', async (t) => {
  const first = await startUpstream(t, 'first', (_req, res) => setTimeout(() => res.writeHead(503).end('busy'), 300));
  const second = await startUpstream(t, 'second');
  const newcomer = await startUpstream(t, 'newcomer');
  const gw = await startGateway(t, twoClusters(first, second));
  const pending = send(gw.url);
  await new Promise((r) => setTimeout(r, 100));
  const reloaded = twoClusters(first, second);
  reloaded.clusters = { first: reloaded.clusters!.first, newcomer: { region: 'far', role: 'trade', endpoints: [newcomer.url] } };
  const { configSchema } = await import('../../src/config/schema.ts');
  const { buildRuntimeConfig } = await import('../../src/config/runtime.ts');
  gw.gateway.apply(buildRuntimeConfig(configSchema.parse({ ...reloaded, listen: { port: 0 } }), 'test.yaml'));
  const answer = await pending;
  assert.notEqual(answer.headers['x-switchyard-cluster'], 'newcomer');
  assert.equal(newcomer.count(), 0, 'the cluster now at the removed one\'s index received nothing');
  assert.ok(answer.status === 502 || answer.status === 200, `status ${answer.status}`);
});
