/**
 * The process logger (pino): JSON lines on stdout, written asynchronously so a slow terminal or log
 * shipper never blocks the event loop; secrets and cookies are redacted by path at construction.
 * The level can be changed at runtime (`PUT /api/log/level`); `flushLogger` drains the buffer before exit.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths never logged as they are: tokens, passwords, cookies, authorization headers. */
export const redactedPaths = [
  'token', '*.token', 'password', '*.password', 'redis', '*.redis', 'secret', '*.secret',
  'headers.authorization', 'headers.cookie', 'headers["set-cookie"]', 'headers["proxy-authorization"]',
  'req.headers.authorization', 'req.headers.cookie',
];

/** The levels `log.level` and the admin API accept. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LoggerOptions {
  readonly level?: string;
  /** Write synchronously (tests, CLI commands that exit right away). */
  readonly sync?: boolean;
  /** File descriptor or path (default 1, stdout). */
  readonly destination?: number | string;
  /** Writes here instead of `destination` (tests that read the lines back). */
  readonly stream?: DestinationStream;
}

/** How long exit waits for buffered lines to reach the destination. */
const flushTimeoutMs = 2000;

/**
 * Buffered lines are written at least this often: the buffer only writes itself out once 4 KiB are
 * waiting, and a quiet gateway must not hold back the line saying a reload failed.
 */
const flushIntervalMs = 1000;

/** Creates the process logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  let destination = options.stream;
  if (destination === undefined) {
    const buffered = pino.destination({ dest: options.destination ?? 1, sync: options.sync ?? false, minLength: options.sync ? 0 : 4096 });
    if (options.sync !== true) setInterval(() => flushQuietly(buffered), flushIntervalMs).unref();
    destination = buffered;
  }
  return pino({
    level: options.level ?? 'info',
    base: { pid: process.pid },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination);
}

/** Whether `value` is a level name the logger accepts. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (logLevels as readonly string[]).includes(value);
}

/**
 * Writes out everything buffered; resolves when written (or after a bound, so a stuck pipe cannot
 * keep a stopping process alive). Call before `process.exit`.
 */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, flushTimeoutMs);
    timer.unref();
    try {
      logger.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

function flushQuietly(destination: { flush(): void }): void {
  try {
    destination.flush();
  } catch {
    // destroyed (process exiting): nothing left to write
  }
}
