/**
 * A recording pinned cluster endpoint that can go down and come back on the same port, so an outage
 * is a real refused connection and recovery is the same endpoint answering again.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

/** One request as the endpoint received it. */
export interface Arrival {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  readonly sha256: string;
}

/** Answers a request; the default is 200. */
export type Answer = (arrival: Arrival, res: ServerResponse) => void;

export interface Primary {
  readonly port: number;
  readonly url: string;
  readonly arrivals: Arrival[];
  answer: Answer;
  /** Stops listening and cuts open connections: new connections are refused. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

const ok: Answer = (_arrival, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
};

/** Starts an endpoint on a free port (running unless `down`), stopped in t.after(). */
export async function startPrimary(t: TestContext, down = false): Promise<Primary> {
  const arrivals: Arrival[] = [];
  let server: Server | undefined;
  let port = 0;
  const primary: Primary = {
    get port() { return port; },
    get url() { return `http://127.0.0.1:${port}`; },
    arrivals,
    answer: ok,
    async start() {
      server = createServer((req, res) => collect(req, (arrival) => {
        arrivals.push(arrival);
        primary.answer(arrival, res);
      }));
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    },
  };
  await primary.start();
  t.after(() => primary.stop());
  if (down) await primary.stop();
  return primary;
}

function collect(req: IncomingMessage, done: (arrival: Arrival) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    done({
      method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, headers: req.headers, body,
      sha256: createHash('sha256').update(body).digest('hex'),
    });
  });
}
