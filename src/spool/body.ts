/**
 * Reads the body of a webhook the pinned cluster could not take: hashed while streaming (the SHA-256
 * an SRE matches against the payment provider's dashboard) and kept only when it is to be spooled.
 * The route's body cap is enforced as the proxy enforces it, so memory stays bounded by it.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** How reading ended. */
export type BodyRead =
  | { readonly kind: 'complete'; readonly bytes: number; readonly sha256: string; readonly body: Buffer | undefined }
  /** More than `limitBytes` arrived; reading stopped there. */
  | { readonly kind: 'too_large'; readonly bytes: number }
  /** The client went away or the stream failed before the end. */
  | { readonly kind: 'aborted'; readonly bytes: number };

/** Reads `req` to its end; `keep` collects the bytes (at most `limitBytes` of them). Never rejects. */
export function readBody(req: IncomingMessage, limitBytes: number, keep: boolean): Promise<BodyRead> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let bytes = 0;
    const finish = (read: BodyRead) => {
      req.off('data', onData).off('end', onEnd).off('error', onFail).off('aborted', onFail).off('close', onClose);
      resolve(read);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limitBytes) {
        req.pause();
        return finish({ kind: 'too_large', bytes });
      }
      hash.update(chunk);
      if (keep) chunks.push(chunk);
    };
    const onEnd = () => finish({ kind: 'complete', bytes, sha256: hash.digest('hex'), body: keep ? Buffer.concat(chunks, bytes) : undefined });
    const onFail = () => finish({ kind: 'aborted', bytes });
    // A request whose socket closed without 'end' was cut by the client.
    const onClose = () => {
      if (!req.readableEnded) onFail();
    };
    if (req.readableEnded) return onEnd();
    req.on('data', onData).once('end', onEnd).once('error', onFail).once('aborted', onFail).once('close', onClose);
    req.resume();
  });
}
