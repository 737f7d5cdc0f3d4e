/**
 * The request body as one upstream attempt sees it. The client's stream is only read once undici
 * starts writing the body, so an attempt that failed before writing (connection refused) leaves the
 * client stream untouched and the request can go elsewhere: bodies are never buffered for retries and
 * never read twice. Bytes pass through unchanged (pinned webhooks depend on it); a route's
 * `maxBodyBytes` is enforced while streaming.
 */
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';

/** Thrown into the upstream request when the client sends more than the route accepts. */
export class PayloadTooLargeError extends Error {
  readonly code = 'SWITCHYARD_PAYLOAD_TOO_LARGE';
  constructor(limitBytes: number) {
    super(`request body exceeds ${limitBytes} bytes`);
  }
}

/** A pass-through of the client's body that starts reading only when first pulled. */
export class AttemptBody extends Readable {
  /** Whether any of the client's body was handed to the upstream request. */
  started = false;
  bytes = 0;
  private readonly source: IncomingMessage;
  private readonly limitBytes: number;
  private attached = false;

  constructor(source: IncomingMessage, limitBytes: number) {
    super({ highWaterMark: 64 * 1024 });
    this.source = source;
    this.limitBytes = limitBytes;
  }

  override _read(): void {
    if (!this.attached) {
      this.attached = true;
      this.started = true;
      this.source.on('data', this.onData);
      this.source.once('end', this.onEnd);
      this.source.once('error', this.onError);
      this.source.once('aborted', this.onAborted);
    }
    this.source.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.detach();
    callback(err);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    if (this.bytes > this.limitBytes) {
      this.detach();
      this.destroy(new PayloadTooLargeError(this.limitBytes));
      return;
    }
    if (!this.push(chunk)) this.source.pause();
  };

  private readonly onEnd = (): void => {
    this.detach();
    this.push(null);
  };

  private readonly onError = (err: Error): void => {
    this.detach();
    this.destroy(err);
  };

  private readonly onAborted = (): void => {
    this.onError(new Error('client aborted the request body'));
  };

  private detach(): void {
    if (!this.attached) return;
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('error', this.onError);
    this.source.off('aborted', this.onAborted);
    this.source.pause();
  }
}

/** Whether the request carries a body that must be streamed upstream. */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
