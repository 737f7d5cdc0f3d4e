/**
 * The answer to a webhook whose pinned cluster is unavailable (SPEC §2.4, §5): the body is read and
 * hashed while streaming; the request is spooled (202, only once Redis has it) when the route spools,
 * otherwise refused with 503 pinned_cluster_unavailable and Retry-After. Every refusal is logged with
 * route, path, request id and the body's SHA-256, so an SRE can reconcile with the provider's dashboard.
 */
import type { ServerResponse } from 'node:http';
import type { RuntimeRoute } from '../config/runtime.ts';
import type { ErrorCode } from '../errors.ts';
import type { PinnedUnavailable } from '../proxy/gateway.ts';
import { sendError } from '../proxy/respond.ts';
import type { StateLogger } from '../state/logger.ts';
import { readBody, type BodyRead } from './body.ts';
import type { NewSpoolEntry } from './entry.ts';
import type { WriteSlots } from './write-slots.ts';

/** Where spooled requests go; absent without Redis. */
export interface SpoolWriter {
  readonly slots: WriteSlots;
  /** How long a webhook may wait for a write slot before 503 spool_full. */
  readonly slotWaitMs: number;
  /** The largest body the route may spool. */
  entryLimitBytes(route: RuntimeRoute): number;
  append(route: RuntimeRoute, entry: NewSpoolEntry): Promise<AppendResult>;
}

export type AppendResult = { readonly kind: 'spooled'; readonly id: string } | { readonly kind: 'full' } | { readonly kind: 'failed'; readonly error: Error };

export interface PinnedResponderOptions {
  readonly logger: StateLogger;
  readonly spool: SpoolWriter | undefined;
  /** A pinned webhook was refused (503): feeds `switchyard_pinned_unavailable_total{route}`. */
  readonly onPinnedUnavailable?: (route: string) => void;
  /** A pinned webhook was spooled (202): feeds `switchyard_spooled_total`. */
  readonly onSpooled?: (route: string) => void;
}

/** What one answer logs. */
interface Facts {
  readonly route: string;
  readonly path: string;
  readonly requestId: string;
  readonly reason: string;
}

/** Answers pinned webhooks the cluster cannot take; `handle` is the gateway's PinnedUnavailableHandler. */
export class PinnedResponder {
  private readonly options: PinnedResponderOptions;

  constructor(options: PinnedResponderOptions) {
    this.options = options;
  }

  /** PinnedUnavailableHandler: never rejects (a bug here answers 500 rather than leaving the client hanging). */
  readonly handle = (request: PinnedUnavailable): Promise<ErrorCode | undefined> => this.answer(request).catch((err: Error) => {
    this.options.logger.error({ route: request.route.name, requestId: request.requestId, err: { message: err.message } }, 'pinned webhook handling failed');
    sendError(request.res, { code: 'internal_error', requestId: request.requestId, route: request.route.name, close: true });
    return 'internal_error' as const;
  });

  private async answer(request: PinnedUnavailable): Promise<ErrorCode | undefined> {
    const arrivedAtMs = Date.now();
    const { route, req } = request;
    const facts: Facts = { route: route.name, path: pathOf(req.url!), requestId: request.requestId, reason: request.reason };
    const spool = route.config.spool?.enabled === true ? this.options.spool : undefined;
    const routeLimit = route.config.maxBodyBytes ?? Infinity;
    if (spool === undefined) return this.refuse(request, facts, await readBody(req, routeLimit, false), 'pinned_cluster_unavailable');
    if (!await spool.slots.acquire(spool.slotWaitMs)) {
      return this.refuse(request, facts, await readBody(req, routeLimit, false), 'spool_full');
    }
    try {
      const read = await readBody(req, Math.min(routeLimit, spool.entryLimitBytes(route)), true);
      if (read.kind !== 'complete') return this.refuse(request, facts, read, 'pinned_cluster_unavailable');
      return await this.spool(request, facts, read, spool, arrivedAtMs);
    } finally {
      spool.slots.release();
    }
  }

  private async spool(request: PinnedUnavailable, facts: Facts, read: BodyRead & { kind: 'complete' }, spool: SpoolWriter,
    arrivedAtMs: number): Promise<ErrorCode | undefined> {
    const { req } = request;
    const result = await spool.append(request.route, {
      method: req.method!, url: req.url!, headers: request.upstreamHeaders, body: read.body!, arrivedAtMs,
      requestId: request.requestId,
    }).catch((error: Error): AppendResult => ({ kind: 'failed', error }));
    if (result.kind === 'full') return this.refuse(request, facts, read, 'spool_full');
    if (result.kind === 'failed') return this.refuse(request, facts, read, 'pinned_cluster_unavailable', result.error);
    this.options.logger.info({ ...facts, bodySha256: read.sha256, bodyBytes: read.bytes, spoolId: result.id }, 'pinned webhook spooled');
    this.options.onSpooled?.(facts.route);
    sendSpooled(request.res, result.id, request.requestId, facts.route);
    return undefined;
  }

  /** 503 (or 413 past the route's cap), logged with the body's digest when the whole body was read. */
  private refuse(request: PinnedUnavailable, facts: Facts, read: BodyRead, code: ErrorCode, error?: Error): ErrorCode {
    const routeLimit = request.route.config.maxBodyBytes ?? Infinity;
    const answered: ErrorCode = read.kind === 'too_large' && read.bytes > routeLimit ? 'payload_too_large' : code;
    const digest = read.kind === 'complete' ? read.sha256 : null;
    this.options.logger.warn({
      ...facts, error: answered, bodySha256: digest, bodyBytes: read.bytes, bodyComplete: read.kind === 'complete',
      ...(error === undefined ? {} : { err: { message: error.message } }),
    }, 'pinned webhook refused');
    if (answered !== 'payload_too_large') this.options.onPinnedUnavailable?.(facts.route);
    sendError(request.res, {
      code: answered, requestId: facts.requestId, route: facts.route, close: read.kind !== 'complete',
      retryAfterSeconds: answered === 'payload_too_large' ? undefined : request.route.config.onUnavailable.retryAfterSeconds,
    });
    return answered;
  }
}

/** 202 with the spool entry's id: the request is in Redis and will be delivered (SPEC §5). */
function sendSpooled(res: ServerResponse, id: string, requestId: string, route: string): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify({ status: 'spooled', id, requestId });
  res.writeHead(202, [
    'content-type', 'application/json; charset=utf-8', 'content-length', String(Buffer.byteLength(body)),
    'cache-control', 'no-store', 'x-request-id', requestId, 'x-switchyard-cluster', 'none', 'x-switchyard-route', route,
  ]);
  res.end(body);
}

/** The path without the query: queries of webhooks may carry tokens. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
