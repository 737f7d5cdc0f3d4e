/**
 * The bench upstream: a bare node:http server standing in for every cluster endpoint. It answers a
 * small JSON body; a request with a body is read to its end first; `/healthz` answers 200 like any path,
 * so health checks pass. Started as a child: `node bench/upstream.ts --port N`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { exitWithParent } from './processes.ts';

/** Longer than any pool's idle timeout, so the upstream never closes a pooled connection mid-run. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const BODY = Buffer.from('{"ok":true}\n');
const HEADERS = ['content-type', 'application/json', 'content-length', String(BODY.length)];

function answer(response: ServerResponse): void {
  response.writeHead(200, HEADERS).end(BODY);
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const hasBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return answer(response);
  request.on('end', () => answer(response)).resume();
}

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const server = createServer(handle);
server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
server.listen(Number(values.port), '127.0.0.1');
exitWithParent();
