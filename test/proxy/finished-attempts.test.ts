import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { send } from '../helpers/client.ts';

const regions = { here: { location: [31.23, 121.47] as [number, number] } };

/** An address nothing listens on. */
const deadEndpoint = 'http://127.0.0.1:9';

function clusters(endpoints: string[]): ConfigInput {
  return {
    trustedProxies: ['127.0.0.1/32'],
    regions,
    clusters: { main: { region: 'here', role: 'primary', endpoints } },
    routes: [{ name: 'all', match: { pathPrefix: '/' } }],
  };
}

/** Every undici request created, and every client request and response the listener on `port` starts, in order. */
function watchObjects(t: TestContext, port: number): { attempts: object[]; requests: IncomingMessage[]; responses: ServerResponse[] } {
  const attempts: object[] = [];
  const requests: IncomingMessage[] = [];
  const responses: ServerResponse[] = [];
  const onAttempt = (message: unknown) => attempts.push((message as { request: object }).request);
  const onResponse = (message: unknown) => {
    const { request, response, socket } = message as { request: IncomingMessage; response: ServerResponse; socket: Socket };
    if (socket.localPort !== port) return;
    requests.push(request);
    responses.push(response);
  };
  subscribe('undici:request:create', onAttempt);
  subscribe('http.server.request.start', onResponse);
  t.after(() => {
    unsubscribe('undici:request:create', onAttempt);
    unsubscribe('http.server.request.start', onResponse);
  });
  return { attempts, requests, responses };
}

/**
 * The path from `from` to `target` through own properties (symbols included), or undefined. Values
 * are followed, getters are not; the walk is bounded, which is enough for a link a few steps away.
 */
function pathTo(from: object, target: object, maxDepth = 6): string | undefined {
  const seen = new Set<unknown>([from]);
  let frontier: Array<[object, string]> = [[from, 'attempt']];
  for (let depth = 0; depth < maxDepth && frontier.length > 0; depth++) {
    const next: Array<[object, string]> = [];
    for (const [object, path] of frontier) {
      for (const key of Reflect.ownKeys(object)) {
        const value = Object.getOwnPropertyDescriptor(object, key)?.value as unknown;
        if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) continue;
        const here = `${path}.${String(key)}`;
        if (value === target) return here;
        seen.add(value);
        next.push([value, here]);
      }
    }
    frontier = next;
  }
  return undefined;
}

// undici's objects for an attempt outlive it a little, and a dead old-generation object among them
// keeps what it points at through scavenges (see AttemptHandler): it must not point at the exchange's
// response. For a stream body, undici's request object is held after the attempt by its own error
// handler, an arrow function assigned to a property, which V8 allocates in the old generation (see
// AttemptBody.release): through the attempt's body it must not reach the client's request either.
test('once an attempt with a body has ended, undici\'s request object leads neither to the client\'s response nor to its request', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, clusters([upstream.url]));
  const { attempts, requests, responses } = watchObjects(t, gw.port);

  const answer = await send(`${gw.url}/cart/items`, { method: 'POST', body: Buffer.alloc(16384, 'x') });
  assert.equal(answer.status, 200);
  await new Promise((resolve) => setImmediate(resolve));

  assert.equal(attempts.length, 1);
  assert.equal(responses.length, 1);
  assert.equal(pathTo(attempts[0], responses[0]), undefined);
  assert.equal(pathTo(attempts[0], requests[0]), undefined);
});

test('an attempt that failed (connection refused) lets go of the request as well', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, clusters([deadEndpoint, upstream.url]));
  const { attempts, responses } = watchObjects(t, gw.port);

  // The cursor may start at either endpoint; a few requests make sure the refused one is tried.
  for (let i = 0; i < 4; i++) assert.equal((await send(`${gw.url}/cart`)).status, 200);
  await new Promise((resolve) => setImmediate(resolve));

  assert.ok(attempts.length > responses.length, 'a refused attempt was made');
  for (const attempt of attempts) {
    for (const response of responses) assert.equal(pathTo(attempt, response), undefined);
  }
});

test('a refused attempt with a body lets go of the client\'s request, and the next attempt still sends it whole', async (t) => {
  const upstream = await startUpstream(t, 'main');
  const gw = await startGateway(t, clusters([deadEndpoint, upstream.url]));
  const { attempts, requests } = watchObjects(t, gw.port);

  // POST is not idempotent, but a refused connection never read the body, so it goes to the next endpoint.
  for (let i = 0; i < 4; i++) {
    const answer = await send(`${gw.url}/cart/items`, { method: 'POST', body: Buffer.alloc(4096, 'y') });
    assert.equal(answer.status, 200);
  }
  await new Promise((resolve) => setImmediate(resolve));

  assert.ok(attempts.length > requests.length, 'a refused attempt was made');
  const posts = upstream.received.filter((received) => received.method === 'POST');
  assert.deepEqual(posts.map((received) => received.bodyBytes), [4096, 4096, 4096, 4096]);
  for (const attempt of attempts) {
    for (const request of requests) assert.equal(pathTo(attempt, request), undefined);
  }
});
