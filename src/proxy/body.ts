/**
 * The request body as one upstream attempt sees it. The client's stream is only read once undici
 * starts writing the body, so an attempt that failed before writing (connection refused) leaves the
 * client stream untouched and the request can go elsewhere: bodies are never buffered for retries and
 * never read twice. Bytes pass through unchanged (pinned webhooks depend on it); a route's
 * `maxBodyBytes` is enforced while streaming.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';

/** Thrown into the upstream request when the client sends more than the route accepts. */
export class PayloadTooLargeError extends Error {
  readonly code = 'SWITCHYARD_PAYLOAD_TOO_LARGE';
  constructor(limitBytes: number) {
    super(`request body exceeds ${limitBytes} bytes`);
  }
}

/**
 * A pass-through of the client's body that starts reading only when undici first resumes it. It is
 * not a Readable: undici reads a stream body through its `data` events (`pipe` and `on` are what make
 * it a stream to undici), so a second stream layer between the client and the upstream socket would
 * only add a buffer, a construction and a few event-loop hops per request (on the webhook profile,
 * about 12 % of the bytes a request allocated, and 7 % of its CPU at a fixed rate). Destroying it
 * (undici does, on every outcome) detaches from the client's request and never destroys it, so the
 * gateway can still answer with its own error.
 */
export class AttemptBody extends EventEmitter {
  /** Whether any of the client's body was handed to the upstream request. */
  started = false;
  bytes = 0;
  destroyed = false;
  /** The client's request; null once the attempt is over and undici no longer reads through this body (see release). */
  private source: IncomingMessage | null;
  private readonly limitBytes: number;
  private attached = false;
  /** The attempt is over; the source is forgotten as soon as nothing reads through this body. */
  private released = false;
  /** The exchange is answered: what the client still sends is read and dropped, never paused on. */
  private discarding = false;

  constructor(source: IncomingMessage, limitBytes: number) {
    super();
    this.source = source;
    this.limitBytes = limitBytes;
  }

  /** undici asks for the next chunks: from the first call on, the client's body flows upstream. */
  resume(): this {
    if (this.destroyed || this.source === null) return this;
    if (!this.attached) {
      this.attached = true;
      this.started = true;
      this.source.on('data', this.onData);
      this.source.once('end', this.onEnd);
      this.source.once('error', this.onError);
      this.source.once('aborted', this.onAborted);
    }
    this.source.resume();
    return this;
  }

  /** The upstream socket is full: stop reading the client until it drains. */
  pause(): this {
    if (this.attached) this.source?.pause();
    return this;
  }

  /** Never called for HTTP/1.1 (the pools do not negotiate HTTP/2); present because undici tells streams by it. */
  pipe(): never {
    throw new Error('AttemptBody is read through its data events');
  }

  /**
   * The upstream answered before the client finished sending its body (an early 401 or 413, say) and
   * the exchange is over. A paused, half-read request would stall the keep-alive connection (Node
   * only drains bodies nobody read) until requestTimeoutMs cuts it: the rest is read and dropped, as
   * NGINX discards a request body it no longer needs. requestTimeoutMs still bounds how long.
   */
  discardRest(): void {
    if (!this.started || this.source === null || this.source.complete) return;
    this.discarding = true;
    if (!this.attached) this.source.resume();
  }

  /** Detaches from the client's request; `err` reaches undici's listeners as a stream error would. */
  destroy(err?: Error | null): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.detach();
    if (this.released) this.source = null;
    // As a Node stream does: error and close on the next tick, never inside the caller's own callback.
    const error = err ?? null;
    if ((error !== null && this.listenerCount('error') > 0) || this.listenerCount('close') > 0) process.nextTick(emitDestroyed, this, error);
    return this;
  }

  /**
   * The attempt is over (undici reported its end or error, and the exchange has had its say): forget
   * the client's request, at once if nothing reads through this body any more, else when undici
   * destroys it. undici's request object for the attempt outlives it: its stream-body error handler is
   * an arrow function assigned to a property, which V8 allocates straight into the old generation, and
   * once dead it still holds that request object, this body and whatever the body points at through
   * every scavenge until the next full collection. Through `source` that was the client's whole
   * request; see the measurements in the README ("Closures that V8 allocates old").
   */
  release(): void {
    this.released = true;
    if (this.destroyed || !this.attached) this.source = null;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    if (this.bytes > this.limitBytes) {
      this.destroy(new PayloadTooLargeError(this.limitBytes));
      return;
    }
    this.emit('data', chunk);
  };

  private readonly onEnd = (): void => {
    this.detach();
    this.emit('end');
  };

  private readonly onError = (err: Error): void => {
    this.destroy(err);
  };

  private readonly onAborted = (): void => {
    this.onError(new Error('client aborted the request body'));
  };

  private detach(): void {
    if (!this.attached || this.source === null) return;
    this.attached = false;
    this.source.off('data', this.onData);
    this.source.off('end', this.onEnd);
    this.source.off('error', this.onError);
    this.source.off('aborted', this.onAborted);
    if (this.discarding) this.source.resume();
    else this.source.pause();
  }
}

function emitDestroyed(body: AttemptBody, err: Error | null): void {
  // An error nobody listens for any more (undici has finished with the request) is not thrown.
  if (err !== null && body.listenerCount('error') > 0) body.emit('error', err);
  body.emit('close');
}

/** Whether the request carries a body that must be streamed upstream. */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
