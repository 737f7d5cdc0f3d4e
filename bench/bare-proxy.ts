/**
 * The stack's ceiling: bare fastify 5 + `reply.hijack()` + undici `Pool.stream()`, writing the upstream
 * response straight into the client's socket. No routing, no headers beyond hop-by-hop hygiene.
 * Started as a child: `node bench/bare-proxy.ts --port N --upstream http://127.0.0.1:M`.
 */
import Fastify from 'fastify';
import { Pool, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { exitWithParent } from './processes.ts';

/** The same pool size @fastify/reply-from uses by default. */
const POOL_CONNECTIONS = 128;
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'host',
]);

function withoutHopByHop(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}

function fail(response: ServerResponse, error: Error): void {
  if (response.headersSent) response.destroy(error);
  else response.writeHead(502, { 'content-type': 'application/json' }).end('{"error":"upstream_error"}');
}

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const pool = new Pool(String(values.upstream), { connections: POOL_CONNECTIONS });
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', (_request, _payload, done) => done(null));
app.all('/*', (request, reply) => {
  reply.hijack();
  const response = reply.raw;
  const hasBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
  pool.stream(
    {
      method: request.method as Dispatcher.HttpMethod, path: request.url,
      headers: withoutHopByHop(request.headers), body: hasBody ? request.raw : null,
    },
    ({ statusCode, headers }) => response.writeHead(statusCode, withoutHopByHop(headers)),
    (error) => { if (error) fail(response, error); },
  );
});
await app.listen({ port: Number(values.port), host: '127.0.0.1' });
exitWithParent();
