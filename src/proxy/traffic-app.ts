/**
 * The traffic listener (SPEC §9). fastify owns its lifecycle (listen, close, idle connections), as it
 * does the admin app's; requests bypass fastify's router and body parsing and go straight to the
 * gateway, because those judge methods (404 for PROPFIND), content types (415) and URL encodings
 * (400) that a proxy must pass through untouched. Node's HTTP server enforces the `limits` block:
 * header size → 431, header and request timeouts → 408, connection cap; malformed framing → 400.
 * What is refused before the gateway sees a request goes to a RefusalObserver (a metric and a
 * rate-limited log line); a request the gateway already took is answered through its own response.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import { renderErrorBody, type ErrorCode, errorCatalogue } from '../errors.ts';
import type { AnsweredRefusal, RefusalObserver } from './refusals.ts';
import { requestIdOf, sendError } from './respond.ts';

/** What the listener hands each request to. */
export interface TrafficHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * Request header lines accepted (Envoy's default). Node silently drops lines past its own count, which
 * would forward a request other than the one sent; past this many the request gets 431 instead.
 */
export const MAX_REQUEST_HEADERS = 100;

/** Bounds of how often Node looks for connections past their header or request timeout. */
const MIN_TIMEOUT_CHECK_MS = 50;
const MAX_TIMEOUT_CHECK_MS = 1000;
/** Timeouts are noticed within this fraction of the header timeout. */
const TIMEOUT_CHECKS_PER_HEADERS_TIMEOUT = 4;

/** How long a connection answered with a raw error may stay open for the client to read it. */
const ERROR_LINGER_MS = 1000;

/** Told of nothing: for tests of the listener alone. */
const ignoredRefusals: RefusalObserver = { refused() {} };

/** Builds the traffic app; `listen` is up to the caller. `refusals` hears of what never reaches the handler. */
export function buildTrafficApp(limits: Config['limits'], handler: TrafficHandler,
  refusals: RefusalObserver = ignoredRefusals): FastifyInstance<Server> {
  return Fastify({
    logger: false,
    // fastify's own request handler is never installed: see the file comment.
    serverFactory: () => createTrafficServer(limits, handler, refusals),
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => onClientError(err, socket, refusals),
  }) as unknown as FastifyInstance<Server>;
}

/** The Node server with the `limits` applied and every request routed to the handler. */
export function createTrafficServer(limits: Config['limits'], handler: TrafficHandler,
  refusals: RefusalObserver = ignoredRefusals): Server {
  // Node refuses a header timeout longer than the request timeout; the request timeout covers it anyway.
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  const server = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks the timeouts only this often (30 s by default, which would let slow clients linger).
    connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_MS,
      Math.max(MIN_TIMEOUT_CHECK_MS, Math.floor(headersTimeout / TIMEOUT_CHECKS_PER_HEADERS_TIMEOUT))),
    // Longer than cloud load balancers' idle timeouts, so they never reuse a connection we are closing.
    keepAliveTimeout: 65_000,
    // Checked in admit(), so that the answer is the gateway's JSON error rather than Node's bare 400.
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    // Never lenient, whatever NODE_OPTIONS says: lenient parsing is how requests get smuggled.
    insecureHTTPParser: false,
  }, (req, res) => {
    if (admit(req, res, refusals)) handler.handle(req, res);
  });
  // One more than accepted, so that "too many" can be told apart from "exactly the limit".
  server.maxHeadersCount = MAX_REQUEST_HEADERS + 1;
  server.maxConnections = limits.maxConnections;
  // Node closes connections past maxConnections at accept, silently but for this event.
  server.on('drop', () => refusals.refused('max_connections'));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!admit(req, res, refusals)) return;
    continueOnFirstRead(req, res);
    handler.handle(req, res);
  });
  // CONNECT would make the gateway an open tunnel (SPEC §9): refused.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    refusals.refused('method_not_allowed');
    writeRawError(socket, 'method_not_allowed');
  });
  return server;
}

/** Normalises the target and applies the checks Node leaves to us; false when already answered. */
function admit(req: IncomingMessage, res: ServerResponse, refusals: RefusalObserver): boolean {
  req.url = originFormOf(req.url ?? '/');
  const problem = headerProblem(req);
  if (problem === undefined) return true;
  refusals.refused(problem);
  sendError(res, { code: problem, requestId: '-', close: true });
  return false;
}

/**
 * Too many header lines (431), or a Host problem RFC 9112 §3.2 answers with 400: an HTTP/1.1 request
 * without Host, or one with two. Node keeps the first Host for routing while every line is forwarded,
 * so an ingress that reads the second would serve a host the route was never chosen for.
 */
function headerProblem(req: IncomingMessage): AnsweredRefusal | undefined {
  const raw = req.rawHeaders;
  if (raw.length / 2 > MAX_REQUEST_HEADERS) return 'header_too_large';
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1 || (hosts === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor === 1)) return 'bad_request';
  return undefined;
}

/**
 * `Expect: 100-continue` (SPEC §9): the 100 goes out when something first reads the body (an upstream
 * attempt, the spool), so a request answered without its body (413 over a route's cap, 404, 503) never
 * invites it. A Readable's `_read` runs when a consumer first wants data that has not arrived.
 */
function continueOnFirstRead(req: IncomingMessage, res: ServerResponse): void {
  const read = req._read;
  // Bound to a name before it is assigned: V8 allocates a function literal assigned straight to a
  // property in the old generation, where, dead, it would hold req and res until a full collection.
  const readAfterContinue = function (this: IncomingMessage, size: number): void {
    req._read = read;
    // Node reads what is left of an unread body after the response ended; a 100 then would corrupt the stream.
    if (!res.headersSent && !res.writableEnded) res.writeContinue();
    read.call(this, size);
  };
  req._read = readAfterContinue;
}

/**
 * An absolute-form target (`GET http://host/path`) is treated as its path and query: the host in it
 * never picks an upstream (SPEC §2.7). `*` (OPTIONS) becomes `/`.
 */
export function originFormOf(url: string): string {
  if (url.charCodeAt(0) === 47 /* / */) return url;
  const scheme = url.indexOf('://');
  if (scheme === -1) return url === '*' ? '/' : `/${url}`;
  const authorityEnd = url.slice(scheme + 3).search(/[/?#]/);
  if (authorityEnd === -1) return '/';
  const rest = url.slice(scheme + 3 + authorityEnd);
  return rest.charCodeAt(0) === 47 ? rest : `/${rest}`;
}

/**
 * Errors Node's parser raised on a connection (malformed framing, oversized headers, timeouts).
 * - A request the gateway already took (a slow or broken body): answered through its own response, so
 *   the gateway's record and access line say what the client was sent; it is not a listener refusal.
 *   Nothing is written into a response already under way: the connection is cut.
 * - Otherwise a listener refusal: counted, answered with the gateway's JSON error, then closed.
 * A client that closed its side in the middle of a message (an unfinished message at EOF) left: there
 * is no one to answer and nothing refused. A request in progress is then logged 499 by the gateway,
 * and a client closing during the linger after a refusal is not a second refusal.
 */
function onClientError(err: Error & { code?: string }, socket: Socket, refusals: RefusalObserver): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (err.code === 'HPE_INVALID_EOF_STATE') {
    socket.destroy();
    return;
  }
  const code = clientErrorCode(err.code);
  // `_httpMessage` is the response in progress on this connection (how Node's own handler checks it).
  const inProgress = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inProgress != null) {
    if (inProgress.headersSent) socket.destroy();
    else sendError(inProgress, { code, requestId: requestIdOf(inProgress), close: true });
    return;
  }
  refusals.refused(code);
  writeRawError(socket, code);
}

/** Maps Node's parser and timeout errors to the catalogue. */
export function clientErrorCode(nodeCode: string | undefined): AnsweredRefusal {
  switch (nodeCode) {
    case 'HPE_HEADER_OVERFLOW': return 'header_too_large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT': return 'request_timeout';
    default: return 'bad_request';
  }
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
  // Give the client time to read the answer, but never keep a half-closed connection around.
  setTimeout(() => socket.destroy(), ERROR_LINGER_MS).unref();
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
