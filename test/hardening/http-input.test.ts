/**
 * Malformed and hostile HTTP/1.1 over raw sockets (SPEC §9): every framing ambiguity gets a clear 4xx
 * before anything reaches an upstream, smuggling attempts cannot slip a second request past the
 * gateway, odd-but-valid requests are forwarded untouched, and normal traffic running alongside never
 * notices. Node's parser (llhttp, strict) does most of the refusing; the listener maps it to the
 * gateway's JSON errors and adds what Node leaves out (header count, Host rules, CONNECT).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigInput } from '../../src/config/schema.ts';
import { MAX_REQUEST_HEADERS } from '../../src/proxy/traffic-app.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { backgroundTraffic, parseResponses, rawExchange } from './raw-http.ts';

const maxHeaderBytes = 4096;

function config(main: Upstream, internal: Upstream): ConfigInput {
  return {
    regions: { here: { location: [31.23, 121.47] } },
    clusters: {
      main: { region: 'here', role: 'primary', endpoints: [main.url] },
      internal: { region: 'here', endpoints: [internal.url] },
      payments: { region: 'here', endpoints: ['http://127.0.0.1:9'] },
    },
    routes: [
      { name: 'webhooks', match: { pathPrefix: '/webhooks/', methods: ['POST'] }, pin: 'payments' },
      { name: 'uploads', match: { pathPrefix: '/upload/' }, clusters: ['main'], maxBodyBytes: 100 },
      { name: 'internal', match: { pathPrefix: '/', hosts: ['internal.example'] }, clusters: ['internal'] },
      { name: 'storefront', match: { pathPrefix: '/' }, clusters: ['main'] },
    ],
    limits: { maxHeaderBytes },
  };
}

async function setup(t: import('node:test').TestContext) {
  const main = await startUpstream(t, 'main');
  const internal = await startUpstream(t, 'internal');
  const gw = await startGateway(t, config(main, internal));
  /** Requests the upstreams completed, the background loop's excluded. */
  const probes = () => [...main.received, ...internal.received].filter((r) => r.url !== '/normal');
  return { main, internal, gw, probes };
}

const post = (headers: string, body = '') => `POST / HTTP/1.1\r\nHost: shop.example\r\n${headers}\r\n${body}`;
const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: shop.example\r\n\r\n';
const get = (headers: string) => `GET / HTTP/1.1\r\nHost: shop.example\r\n${headers}\r\n`;

/** Requests that must be refused with `status`, the connection closed and no upstream reached. */
const refused: readonly { name: string; request: string; status: number }[] = [
  { name: 'CL.TE: Content-Length and Transfer-Encoding', status: 400,
    request: post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${smuggled}`) },
  { name: 'TE.CL: Transfer-Encoding and Content-Length', status: 400,
    request: post('Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', `5c\r\n${smuggled}\r\n0\r\n\r\n`) },
  { name: 'duplicate Content-Length', status: 400, request: post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello') },
  { name: 'conflicting Content-Length', status: 400, request: post('Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!') },
  { name: 'Content-Length as a list', status: 400, request: post('Content-Length: 5, 5\r\n', 'hello') },
  { name: 'Content-Length not a number', status: 400, request: post('Content-Length: abc\r\n') },
  { name: 'Content-Length negative', status: 400, request: post('Content-Length: -1\r\n') },
  { name: 'Content-Length with a sign', status: 400, request: post('Content-Length: +5\r\n', 'hello') },
  { name: 'Content-Length in exponent form', status: 400, request: post('Content-Length: 1e3\r\n') },
  { name: 'Content-Length overflowing 64 bits', status: 400, request: post('Content-Length: 99999999999999999999999\r\n') },
  { name: 'chunk size not hex', status: 400, request: post('Transfer-Encoding: chunked\r\n', 'zz\r\nhello\r\n0\r\n\r\n') },
  { name: 'chunk size negative', status: 400, request: post('Transfer-Encoding: chunked\r\n', '-5\r\nhello\r\n0\r\n\r\n') },
  { name: 'chunk size overflowing 64 bits', status: 400, request: post('Transfer-Encoding: chunked\r\n', 'ffffffffffffffffff\r\nhello\r\n0\r\n\r\n') },
  { name: 'chunk longer than its size', status: 400,
    request: post('Transfer-Encoding: chunked\r\n', `5\r\nhelloXX${smuggled}0\r\n\r\n`) },
  { name: 'Transfer-Encoding: xchunked', status: 400, request: post('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n') },
  { name: 'Transfer-Encoding not ending in chunked', status: 400, request: post('Transfer-Encoding: chunked, identity\r\n', '0\r\n\r\n') },
  { name: 'Transfer-Encoding: identity', status: 400, request: post('Transfer-Encoding: identity\r\nContent-Length: 5\r\n', 'hello') },
  { name: 'two Transfer-Encoding lines', status: 400, request: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: cow\r\n', '0\r\n\r\n') },
  { name: 'space before the colon', status: 400, request: post('Transfer-Encoding : chunked\r\n', '0\r\n\r\n') },
  { name: 'obsolete line folding', status: 400, request: get('X-Folded: a\r\n b\r\n') },
  { name: 'header name with a space', status: 400, request: get('Bad Header: x\r\n') },
  { name: 'header line starting with a space', status: 400, request: get(' X-Indented: x\r\n') },
  { name: 'empty header name', status: 400, request: get(': x\r\n') },
  { name: 'NUL in a header value', status: 400, request: get('X-A: a\0b\r\n') },
  { name: 'bare CR in a header value', status: 400, request: get('X-A: a\rb\r\n') },
  { name: 'bare LF ending a header line', status: 400, request: get('X-A: a\nX-B: b\r\n') },
  { name: 'DEL in a header value', status: 400, request: get('X-A: \x7f\r\n') },
  { name: 'lower-case method', status: 400, request: 'get / HTTP/1.1\r\nHost: a\r\n\r\n' },
  { name: 'space inside the target', status: 400, request: 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n' },
  { name: 'junk after the version', status: 400, request: 'GET / HTTP/1.1 x\r\nHost: a\r\n\r\n' },
  { name: 'unknown HTTP version', status: 400, request: 'GET / HTTP/3.0\r\nHost: a\r\n\r\n' },
  { name: 'HTTP/2 preface on an HTTP/1 port', status: 400, request: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' },
  { name: 'two Host lines', status: 400, request: 'GET / HTTP/1.1\r\nHost: shop.example\r\nHost: internal.example\r\n\r\n' },
  { name: 'HTTP/1.1 without Host', status: 400, request: 'GET / HTTP/1.1\r\n\r\n' },
  // Node counts the request line against maxHeaderSize and answers 431, not 414.
  { name: 'request line past maxHeaderBytes', status: 431, request: `GET /${'a'.repeat(maxHeaderBytes)} HTTP/1.1\r\nHost: a\r\n\r\n` },
  { name: 'one header past maxHeaderBytes', status: 431, request: get(`X-Big: ${'a'.repeat(maxHeaderBytes)}\r\n`) },
  { name: `more than ${MAX_REQUEST_HEADERS} header lines`, status: 431, request: get('X-A: b\r\n'.repeat(MAX_REQUEST_HEADERS)) },
  { name: 'CONNECT', status: 405, request: 'CONNECT internal.example:443 HTTP/1.1\r\nHost: internal.example:443\r\n\r\n' },
];

test('malformed and ambiguous requests get a clear 4xx, reach no upstream, and normal traffic is unaffected', async (t) => {
  const { gw, probes } = await setup(t);
  const loop = backgroundTraffic(`${gw.url}/normal`);
  for (const { name, request, status } of refused) {
    await t.test(name, async () => {
      const result = await rawExchange(gw.port, request);
      const [answer] = parseResponses(result.text);
      assert.equal(answer?.status, status, `answered ${JSON.stringify(result.text.slice(0, 80))}`);
      assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.ok(['bad_request', 'header_too_large', 'method_not_allowed'].includes(JSON.parse(answer.body).error));
      assert.ok(result.closed, 'the connection is closed after the error');
      assert.equal(parseResponses(result.text).length, 1, 'nothing after the error was answered');
    });
  }
  const tally = await loop.stop();
  assert.deepEqual(probes().map((r) => r.url), [], 'no refused request reached an upstream');
  assert.equal(tally.failed, 0, `background failures: ${tally.failures.join(', ')}`);
  assert.ok(tally.ok > refused.length, `background traffic kept flowing (${tally.ok} answers)`);
});

test('a request hidden in a body is forwarded as body bytes, never as a request', async (t) => {
  const { gw, main, probes } = await setup(t);
  const inLength = `0\r\n\r\n${smuggled}`;
  const byLength = await rawExchange(gw.port, post(`Content-Length: ${inLength.length}\r\nConnection: close\r\n`, inLength));
  assert.equal(parseResponses(byLength.text)[0].status, 200);
  const chunk = `0\r\n\r\n${smuggled}`;
  const chunked = `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
  const byChunks = await rawExchange(gw.port, post('Transfer-Encoding:\tchunked\r\nConnection: close\r\n', chunked));
  assert.equal(parseResponses(byChunks.text)[0].status, 200, 'a tab before the value is valid whitespace');
  assert.deepEqual(probes().map((r) => `${r.method} ${r.url}`), ['POST /', 'POST /']);
  assert.equal(main.received[0].body.toString(), inLength);
  assert.equal(main.received[1].body.toString(), chunk);
});

test('an absolute-form target is only a path: its host picks neither route nor upstream', async (t) => {
  const { gw, main, internal } = await setup(t);
  const answer = await rawExchange(gw.port,
    `GET http://internal.example/secret?q=1 HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n`);
  assert.equal(parseResponses(answer.text)[0].headers.get('x-switchyard-route'), 'storefront');
  const direct = await rawExchange(gw.port,
    `GET ${internal.url}/admin HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n`);
  assert.equal(parseResponses(direct.text)[0].headers.get('x-switchyard-cluster'), 'main');
  const noPath = await rawExchange(gw.port, 'GET http://internal.example?q=2 HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
  assert.equal(parseResponses(noPath.text)[0].status, 200);
  assert.deepEqual(main.received.map((r) => r.url), ['/secret?q=1', '/admin', '/?q=2']);
  assert.equal(internal.count(), 0);
});

test('HTTP/1.0 without Host is served; pipelined requests are answered in order', async (t) => {
  const { gw, main } = await setup(t);
  const old = await rawExchange(gw.port, 'GET /legacy HTTP/1.0\r\n\r\n');
  assert.equal(parseResponses(old.text)[0].status, 200);
  assert.ok(old.closed, 'an HTTP/1.0 connection closes after the answer');
  // The first answer is the slowest, so order can only come from the gateway keeping it.
  main.behave((req, res) => setTimeout(() => res.end(req.url), req.url === '/slow' ? 200 : 0));
  const paths = ['/slow', '/b', '/c', '/d'];
  const requests = paths.map((p, i) => `GET ${p} HTTP/1.1\r\nHost: shop.example\r\n${i === paths.length - 1 ? 'Connection: close\r\n' : ''}\r\n`);
  const pipelined = await rawExchange(gw.port, requests.join(''));
  assert.deepEqual(parseResponses(pipelined.text).map((r) => r.body), paths);
});

test('methods, content types and URL encodings the gateway has no opinion on are forwarded untouched', async (t) => {
  const { gw, main } = await setup(t);
  const requests = [
    'PROPFIND /dav HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    'QUERY /search HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\nq=',
    'POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: ;;;\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi',
    'GET /%zz%% HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  ];
  for (const request of requests) assert.equal(parseResponses((await rawExchange(gw.port, request)).text)[0].status, 200, request);
  assert.deepEqual(main.received.map((r) => `${r.method} ${r.url} ${r.body}`),
    ['PROPFIND /dav ', 'QUERY /search q=', 'POST /form hi', 'GET /%zz%% ']);
});

test('Expect: 100-continue: a body over the route cap gets 413 without a 100 first; others get 100 and are served', async (t) => {
  const { gw, main } = await setup(t);
  const head = (path: string, length: number) =>
    `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;
  const over = await rawExchange(gw.port, head('/upload/big', 1000), { waitMs: 1500 });
  assert.deepEqual(parseResponses(over.text).map((r) => r.status), [413]);
  assert.equal(JSON.parse(parseResponses(over.text)[0].body).error, 'payload_too_large');
  assert.ok(over.closed);
  const pinned = await rawExchange(gw.port, head('/webhooks/pay', 10), { waitMs: 1500 });
  assert.deepEqual(parseResponses(pinned.text).map((r) => r.status), [503], 'an unavailable pinned cluster never invites the body');
  const under = await rawExchange(gw.port, head('/upload/small', 5).replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'),
    { afterContinue: 'hello' });
  assert.deepEqual(parseResponses(under.text).map((r) => r.status), [100, 200]);
  assert.deepEqual(main.received.map((r) => `${r.url} ${r.body}`), ['/upload/small hello']);
  assert.equal(main.received[0].headers.expect, undefined, 'the expectation is answered by the gateway, not forwarded');
});

test(`exactly ${MAX_REQUEST_HEADERS} header lines are accepted`, async (t) => {
  const { gw, main } = await setup(t);
  const lines = 'X-A: b\r\n'.repeat(MAX_REQUEST_HEADERS - 2);
  const answer = await rawExchange(gw.port, `GET /many HTTP/1.1\r\nHost: a\r\n${lines}Connection: close\r\n\r\n`);
  assert.equal(parseResponses(answer.text)[0].status, 200);
  assert.equal(main.received[0].rawHeaders.filter((h) => h === 'X-A').length, MAX_REQUEST_HEADERS - 2, 'every line reached the upstream');
});
