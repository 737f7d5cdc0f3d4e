/**
 * The access log (SPEC §2.8): one JSON line per finished request, written through the process logger
 * (asynchronous destination). Only what identifies and explains the request is logged: never headers,
 * cookies or the query string (queries can carry secrets and tokens).
 */
import type { RequestObserver, RequestRecord } from '../proxy/gateway.ts';
import pino from 'pino';
import type { Logger } from './logger.ts';

/** The `msg` of every access line, so log pipelines can route them. */
export const accessMessage = 'request';

/**
 * Writes one line per request while `enabled()` says so (`log.access`, read live so a reload applies).
 * The line is serialised here, straight into the logger's destination: its fields are known and carry
 * no secret, so pino's generic serialisation and path redaction (about a fifth of the gateway's CPU
 * per request when measured) are skipped. The line has the shape pino writes: level, time, pid, msg.
 */
export class AccessLog implements RequestObserver {
  private readonly logger: Logger;
  private readonly enabled: () => boolean;
  private readonly prefix = `{"level":30,"time":"`;
  private readonly afterTime = `","pid":${process.pid},"msg":"${accessMessage}"`;

  constructor(logger: Logger, enabled: () => boolean) {
    this.logger = logger;
    this.enabled = enabled;
  }

  /** RequestObserver: logs the finished request at info level. */
  requestEnded(record: RequestRecord): void {
    if (!this.enabled() || !this.logger.isLevelEnabled('info')) return;
    const stream = (this.logger as unknown as Record<symbol, { write(line: string): void } | undefined>)[pino.symbols.streamSym];
    if (stream === undefined) {
      this.logger.info(accessLine(record), accessMessage);
      return;
    }
    stream.write(`${this.prefix}${new Date().toISOString()}${this.afterTime}${accessFields(record)}}\n`);
  }
}

/** The fields of an access line, as an object (the same fields `accessFields` serialises). */
export function accessLine(record: RequestRecord): object {
  return JSON.parse(`{${accessFields(record).slice(1)}}`) as object;
}

/** `,"requestId":...` and every other field, serialised; client-controlled strings go through JSON.stringify. */
function accessFields(record: RequestRecord): string {
  const geo = record.geo;
  return `,"requestId":${JSON.stringify(record.requestId)},"method":${JSON.stringify(record.method)}`
    + `,"path":${JSON.stringify(withoutQuery(record.path))},"route":${nameOrNull(record.route)}`
    + `,"cluster":${nameOrNull(record.cluster)},"status":${record.status},"error":${nameOrNull(record.errorCode)}`
    + `,"bytesOut":${record.bytesOut},"upstreamMs":${record.upstreamMs === undefined ? 'null' : round(record.upstreamMs)}`
    + `,"durationMs":${round(record.durationMs)},"clientIp":${JSON.stringify(record.clientIp)}`
    + `,"country":${nameOrNull(geo?.country)},"subdivision":${nameOrNull(geo?.subdivision)}`
    + `,"attempts":${record.attempts},"retries":${record.retries},"reason":${JSON.stringify(record.decisionReason)}`
    + `,"panic":${record.panic}`;
}

/** Names from the config, the error catalogue or the geo database: still quoted safely. */
function nameOrNull(value: string | undefined): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

function withoutQuery(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** Microsecond precision is plenty for a log line and keeps it short. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
