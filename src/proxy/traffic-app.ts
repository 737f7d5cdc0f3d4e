/**
 * The traffic listener: a fastify app with one catch-all route that hands the raw request to the
 * gateway (`reply.hijack()`), so bodies are streamed, never parsed. Node's HTTP server enforces the
 * `limits` block (header size → 431, header and request timeouts, connection cap); malformed requests
 * get the gateway's JSON errors. The admin API is never served here (SPEC §7).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import { renderErrorBody, type ErrorCode, errorCatalogue } from '../errors.ts';

/** What the listener hands each request to. */
export interface TrafficHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** Builds the traffic app; `listen` is up to the caller. */
export function buildTrafficApp(limits: Config['limits'], handler: TrafficHandler): FastifyInstance<Server> {
  const app = Fastify({
    logger: false,
    serverFactory: (fastifyHandler) => createTrafficServer(limits, fastifyHandler),
    rewriteUrl: (req) => originFormOf(req.url ?? '/'),
    clientErrorHandler: onClientError,
    frameworkErrors: (err, _request, reply) => {
      reply.hijack();
      const body = renderErrorBody('bad_request', '-', err.message);
      reply.raw.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      reply.raw.end(body);
    },
  }) as unknown as FastifyInstance<Server>;
  app.removeAllContentTypeParsers();
  // Leave the body stream untouched for the proxy; fastify must not read or parse it.
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  // Every method fastify supports; CONNECT never reaches here (see createTrafficServer).
  app.all('*', (request, reply) => {
    reply.hijack();
    handler.handle(request.raw, reply.raw);
  });
  return app;
}

function createTrafficServer(limits: Config['limits'], handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: 65_000,
    // Load balancers keep connections for a long time; HTTP/1.0 clients without Host are still served.
    requireHostHeader: false,
    joinDuplicateHeaders: false,
  }, handler);
  server.maxConnections = limits.maxConnections;
  // CONNECT would make the gateway an open tunnel (SPEC §9): refused.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => writeRawError(socket, 'method_not_allowed'));
  return server;
}

/** An absolute-form target (`GET http://host/path`) is treated as its path: it never picks an upstream. */
export function originFormOf(url: string): string {
  if (url.charCodeAt(0) === 47 /* / */) return url;
  const scheme = url.indexOf('://');
  if (scheme === -1) return url === '*' ? '/' : `/${url}`;
  const slash = url.indexOf('/', scheme + 3);
  return slash === -1 ? '/' : url.slice(slash);
}

function onClientError(err: Error & { code?: string }, socket: Socket): void {
  const code: ErrorCode = err.code === 'HPE_HEADER_OVERFLOW' ? 'header_too_large'
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADERS_TIMEOUT' ? 'request_timeout'
      : 'bad_request';
  writeRawError(socket, code);
}

function writeRawError(socket: Socket, code: ErrorCode): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = renderErrorBody(code, '-');
  const { status } = errorCatalogue[code];
  socket.end(`HTTP/1.1 ${status} ${statusText(status)}\r\ncontent-type: application/json; charset=utf-8\r\n`
    + `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

function statusText(status: number): string {
  switch (status) {
    case 400: return 'Bad Request';
    case 405: return 'Method Not Allowed';
    case 408: return 'Request Timeout';
    case 431: return 'Request Header Fields Too Large';
    default: return 'Error';
  }
}
