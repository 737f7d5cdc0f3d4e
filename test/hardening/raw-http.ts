/**
 * Raw HTTP/1.1 over `node:net` for the hardening tests: malformed framing cannot be sent with an HTTP
 * client, and pipelined answers must be read off the wire in order. Also a background request loop
 * that proves normal traffic is unaffected while a test misbehaves.
 */
import { connect, type Socket } from 'node:net';
import { Agent, request } from 'node:http';

/** Everything a connection received before it closed (or the wait ended). */
export interface RawResult {
  readonly text: string;
  /** The gateway closed the connection (rather than the wait running out). */
  readonly closed: boolean;
  /** Milliseconds from the first write to close (or the end of the wait). */
  readonly elapsedMs: number;
}

export interface RawOptions {
  /** Give up waiting after this long (the socket is destroyed); default 3000. */
  readonly waitMs?: number;
  /** Written once the gateway answered `100 Continue`. */
  readonly afterContinue?: string;
}

/** Opens a connection, writes `data`, reads until the gateway closes it or `waitMs` passes. */
export function rawExchange(port: number, data: string | readonly string[], options: RawOptions = {}): Promise<RawResult> {
  const parts = typeof data === 'string' ? [data] : data;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const startedAt = Date.now();
    let text = '';
    let afterContinue = options.afterContinue;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, elapsedMs: Date.now() - startedAt });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 3000);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (afterContinue !== undefined && text.includes('100 Continue\r\n\r\n')) {
        socket.write(afterContinue);
        afterContinue = undefined;
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
    for (const part of parts) socket.write(part);
  });
}

/** Sends one byte string every `intervalMs` on an open socket until it closes; resolves like rawExchange. */
export function trickle(port: number, head: string, piece: string, intervalMs: number, waitMs: number): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const startedAt = Date.now();
    let text = '';
    const tick = setInterval(() => socket.write(piece), intervalMs);
    const finish = (closed: boolean) => {
      clearInterval(tick);
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, elapsedMs: Date.now() - startedAt });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk: Buffer) => { text += chunk.toString('latin1'); });
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
    socket.write(head);
  });
}

/** One response read off the wire. */
export interface WireResponse {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: string;
}

/** Splits what a connection received into responses (content-length, chunked or until close), 1xx included. */
export function parseResponses(text: string): WireResponse[] {
  const out: WireResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) break;
    const [statusLine, ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as const));
    const status = Number(statusLine.split(' ')[1]);
    rest = rest.slice(headEnd + 4);
    let body = '';
    if (status >= 200 && headers.get('transfer-encoding') === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, lineEnd), 16);
        if (lineEnd === -1 || Number.isNaN(size)) break;
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        rest = rest.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else if (status >= 200 && headers.has('content-length')) {
      const length = Number(headers.get('content-length'));
      body = rest.slice(0, length);
      rest = rest.slice(length);
    } else if (status >= 200) {
      body = rest;
      rest = '';
    }
    out.push({ status, headers, body });
  }
  return out;
}

/** What a background loop saw. */
export interface LoopTally {
  ok: number;
  failed: number;
  readonly failures: string[];
  /** Slowest answer, ms. */
  slowestMs: number;
}

/**
 * Runs `concurrency` keep-alive GET loops against `url` until stop() is called; a failure is anything but
 * a 200 from the upstream.
 */
export function backgroundTraffic(url: string, concurrency = 4): { stop(): Promise<LoopTally> } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const tally: LoopTally = { ok: 0, failed: 0, failures: [], slowestMs: 0 };
  let running = true;
  const loop = async () => {
    while (running) {
      const startedAt = Date.now();
      const outcome = await getStatus(url, agent).catch((err: Error) => err.message);
      tally.slowestMs = Math.max(tally.slowestMs, Date.now() - startedAt);
      if (outcome === 200) tally.ok++;
      else {
        tally.failed++;
        if (tally.failures.length < 10) tally.failures.push(String(outcome));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return tally;
    },
  };
}

function getStatus(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
