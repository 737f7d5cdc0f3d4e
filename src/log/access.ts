/**
 * The access log (SPEC §2.8): one JSON line per finished request, written through the process logger
 * (asynchronous destination). Only what identifies and explains the request is logged: never headers,
 * cookies or the query string (queries can carry secrets and tokens).
 */
import type { RequestObserver, RequestRecord } from '../proxy/gateway.ts';
import type { Logger } from './logger.ts';

/** The `msg` of every access line, so log pipelines can route them. */
export const accessMessage = 'request';

/** Writes one line per request while `enabled()` says so (`log.access`, read live so a reload applies). */
export class AccessLog implements RequestObserver {
  private readonly logger: Logger;
  private readonly enabled: () => boolean;

  constructor(logger: Logger, enabled: () => boolean) {
    this.logger = logger;
    this.enabled = enabled;
  }

  /** RequestObserver: logs the finished request at info level. */
  requestEnded(record: RequestRecord): void {
    if (!this.enabled() || !this.logger.isLevelEnabled('info')) return;
    this.logger.info(accessLine(record), accessMessage);
  }
}

/** The fields of an access line. */
export function accessLine(record: RequestRecord): object {
  const geo = record.geo;
  return {
    requestId: record.requestId,
    method: record.method,
    path: withoutQuery(record.path),
    route: record.route ?? null,
    cluster: record.cluster ?? null,
    status: record.status,
    error: record.errorCode ?? null,
    bytesOut: record.bytesOut,
    upstreamMs: record.upstreamMs === undefined ? null : round(record.upstreamMs),
    durationMs: round(record.durationMs),
    clientIp: record.clientIp,
    country: geo?.country ?? null,
    subdivision: geo?.subdivision ?? null,
    attempts: record.attempts,
    retries: record.retries,
    reason: record.decisionReason,
    panic: record.panic,
  };
}

function withoutQuery(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** Microsecond precision is plenty for a log line and keeps it short. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
