/** A plain node:http client for tests: full control over request headers and framing. */
import { request as httpRequest, type IncomingHttpHeaders, Agent } from 'node:http';
import { createHash } from 'node:crypto';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
  sha256(): string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string | AsyncIterable<Buffer>;
  agent?: Agent | false;
}

/** Sends one request and reads the whole answer. */
export function send(url: string, options: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body,
          json: <T>() => JSON.parse(body.toString()) as T,
          sha256: () => createHash('sha256').update(body).digest('hex'),
        });
      });
    });
    req.on('error', reject);
    const body = options.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else void (async () => {
      for await (const chunk of body) req.write(chunk);
      req.end();
    })().catch(reject);
  });
}

/** SHA-256 of a buffer, hex. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
