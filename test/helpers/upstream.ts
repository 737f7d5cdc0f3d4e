/**
 * Real upstream HTTP servers for tests: each answers as a named cluster endpoint, records what it
 * received (headers, body digest) and can be told to fail, slow down or die.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  bodySha256: string;
  bodyBytes: number;
  body: Buffer;
}

export type UpstreamBehaviour = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export interface Upstream {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly received: Received[];
  /** Requests received, health probes excluded. */
  count(): number;
  /** Replaces how traffic requests are answered (health probes keep answering `healthStatus`). */
  behave(behaviour: UpstreamBehaviour): void;
  healthStatus: number;
  close(): Promise<void>;
}

/** Echo: 200 with a JSON body naming the upstream and what it received. */
export const echo = (name: string): UpstreamBehaviour => (req, res, body) => {
  const payload = JSON.stringify({
    upstream: name, method: req.method, url: req.url, headers: req.headers,
    bodySha256: createHash('sha256').update(body).digest('hex'), bodyBytes: body.length,
  });
  res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
  res.end(payload);
};

/** Starts an upstream on 127.0.0.1 and a free port, closed in t.after(). */
export async function startUpstream(t: TestContext | undefined, name: string, behaviour?: UpstreamBehaviour): Promise<Upstream> {
  const received: Received[] = [];
  let current: UpstreamBehaviour = behaviour ?? echo(name);
  const state = { healthStatus: 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/healthz') {
        res.writeHead(state.healthStatus).end();
        return;
      }
      received.push({
        method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders,
        bodySha256: createHash('sha256').update(body).digest('hex'), bodyBytes: body.length, body,
      });
      current(req, res, body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const upstream: Upstream = {
    name, port, url: `http://127.0.0.1:${port}`, received,
    count: () => received.length,
    behave: (b) => { current = b; },
    get healthStatus() { return state.healthStatus; },
    set healthStatus(v: number) { state.healthStatus = v; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  t?.after(() => upstream.close());
  return upstream;
}
