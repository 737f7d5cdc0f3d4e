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

/** Lines are written in batches of at most this many bytes: pipe writes up to PIPE_BUF are atomic. */
const batchBytes = 4096;
/** A partial batch waits at most this long. */
const batchWaitMs = 100;
/** Past this much unwritten output (a stuck log reader), lines are dropped and counted, never piled up. */
const maxPendingBytes = 8 * 1024 * 1024;

/** Where batched lines go: process.stdout for the real process. */
export interface AccessSink {
  write(chunk: string): boolean;
  readonly writableLength: number;
}

/**
 * Writes one line per request while `enabled()` says so (`log.access`, read live so a reload applies).
 * The line is serialised here: its fields are known and carry no secret, so pino's generic
 * serialisation and path redaction (about a fifth of the gateway's CPU per request when measured) are
 * skipped; the line has the shape pino writes (level, time, pid, msg). When the logger writes to
 * stdout, access lines are batched (4 KiB, at most 100 ms) and written from the event loop through
 * process.stdout, not through pino's destination, whose every write is a trip through libuv's thread
 * pool: on a gateway pinned to one core those trips cost more CPU than the requests at moderate load.
 */
export class AccessLog implements RequestObserver {
  /** Lines dropped because the log reader did not keep up. */
  dropped = 0;
  private readonly logger: Logger;
  private readonly enabled: () => boolean;
  private readonly sink: AccessSink | undefined;
  private readonly prefix = `{"level":30,"time":"`;
  private readonly afterTime = `","pid":${process.pid},"msg":"${accessMessage}"`;
  private batch = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly clock = new IsoTime();

  /** `sink` defaults to process.stdout when the logger writes to file descriptor 1. */
  constructor(logger: Logger, enabled: () => boolean, sink?: AccessSink) {
    this.logger = logger;
    this.enabled = enabled;
    this.sink = sink ?? (destinationOf(logger)?.fd === 1 ? process.stdout : undefined);
  }

  /** RequestObserver: logs the finished request at info level. */
  requestEnded(record: RequestRecord): void {
    if (!this.enabled() || !this.logger.isLevelEnabled('info')) return;
    const line = `${this.prefix}${this.clock.format(Date.now())}${this.afterTime}${accessFields(record)}}\n`;
    if (this.sink === undefined) return this.writeThroughLogger(line, record);
    if (this.batch.length + line.length > batchBytes) this.flush();
    this.batch += line;
    this.timer ??= setTimeout(flushAccessLog, batchWaitMs, this).unref();
  }

  /** Writes the pending batch now (also before exit). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch === '' || this.sink === undefined) return;
    if (this.sink.writableLength > maxPendingBytes) this.dropped += countLines(this.batch);
    else this.sink.write(this.batch);
    this.batch = '';
  }

  /** Test and custom destinations: one write per line, as pino would. */
  private writeThroughLogger(line: string, record: RequestRecord): void {
    const stream = destinationOf(this.logger);
    if (stream === undefined) this.logger.info(accessLine(record), accessMessage);
    else stream.write(line);
  }
}

/**
 * `Date#toISOString` for the access line's time, cheaply. V8 formats every call through snprintf (about
 * 7,000 instructions, counted with callgrind), so the date and time up to the second are formatted once
 * per second and the milliseconds appended; the last result is kept, since a busy gateway ends many
 * requests per millisecond.
 */
export class IsoTime {
  private lastMs = Number.NaN;
  private lastIso = '';
  private secondMs = Number.NaN;
  /** `2026-12-07T16:18:16.` */
  private secondPrefix = '';

  format(ms: number): string {
    if (ms === this.lastMs) return this.lastIso;
    if (!Number.isInteger(ms) || ms < 0) return new Date(ms).toISOString();
    const millis = ms % 1000;
    const second = ms - millis;
    if (second !== this.secondMs) {
      this.secondMs = second;
      this.secondPrefix = new Date(second).toISOString().slice(0, -4);
    }
    this.lastMs = ms;
    this.lastIso = `${this.secondPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
    return this.lastIso;
  }
}

function flushAccessLog(log: AccessLog): void {
  log.flush();
}

function destinationOf(logger: Logger): { write(line: string): void; fd?: number } | undefined {
  return (logger as unknown as Record<symbol, { write(line: string): void; fd?: number } | undefined>)[pino.symbols.streamSym];
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** The fields of an access line, as an object (the same fields `accessFields` serialises). */
export function accessLine(record: RequestRecord): object {
  return JSON.parse(`{${accessFields(record).slice(1)}}`) as object;
}

/** `,"requestId":...` and every other field, serialised; client-controlled strings go through `quoted`. */
function accessFields(record: RequestRecord): string {
  const geo = record.geo;
  return `,"requestId":${quoted(record.requestId)},"method":${nameOrNull(record.method)}`
    + `,"path":${quoted(withoutQuery(record.path))},"route":${nameOrNull(record.route)}`
    + `,"cluster":${nameOrNull(record.cluster)},"status":${record.status},"error":${nameOrNull(record.errorCode)}`
    + `,"bytesOut":${record.bytesOut},"upstreamMs":${record.upstreamMs === undefined ? 'null' : milliseconds(record.upstreamMs)}`
    + `,"durationMs":${milliseconds(record.durationMs)},"clientIp":${quoted(record.clientIp)}`
    + `,"country":${nameOrNull(geo?.country)},"subdivision":${nameOrNull(geo?.subdivision)}`
    + `,"attempts":${record.attempts},"retries":${record.retries},"reason":${nameOrNull(record.decisionReason)}`
    + `,"panic":${record.panic}`;
}

/** Printable ASCII other than `"` and `\\`: a JSON string of it is the text between quotes. */
const needsNoEscaping = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * The JSON string of `value`. Request ids, paths and addresses are nearly always plain ASCII, which
 * needs no escaping; anything else goes through JSON.stringify. Counted with callgrind for a request
 * id, a path and an address: 3,054 instructions through JSON.stringify, 2,067 this way (a loop over
 * the character codes took 2,874).
 */
export function quoted(value: string): string {
  return needsNoEscaping.test(value) ? `"${value}"` : JSON.stringify(value);
}

/** Quoted names, kept: a handful of methods, config names, error codes, reasons and geo codes. */
const quotedNames = new Map<string, string>();
/** Bounds the quoted-name cache should a name set ever grow past what a config and a geo database hold. */
const maxQuotedNames = 10_000;

/** Names from the config, the error catalogue, the HTTP parser or the geo database: quoted safely, once. */
function nameOrNull(value: string | undefined): string {
  if (value === undefined) return 'null';
  let quoted = quotedNames.get(value);
  if (quoted === undefined) {
    if (quotedNames.size >= maxQuotedNames) quotedNames.clear();
    quotedNames.set(value, quoted = JSON.stringify(value));
  }
  return quoted;
}

function withoutQuery(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/**
 * Milliseconds with microsecond precision (plenty for a log line, and short), formatted from integers:
 * V8's shortest-double printing costs several times an integer's.
 */
export function milliseconds(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!(us >= 0 && us < Number.MAX_SAFE_INTEGER)) return Number.isFinite(us) ? String(us / 1000) : '0';
  const fraction = us % 1000;
  const whole = (us - fraction) / 1000;
  if (fraction === 0) return String(whole);
  return `${whole}.${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}`;
}
