/**
 * The process logger (pino): JSON lines on stdout, written asynchronously so a slow terminal or log
 * shipper never blocks the event loop; secrets and cookies are redacted by path at construction.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths never logged as they are: tokens, passwords, cookies, authorization headers. */
export const redactedPaths = [
  'token', '*.token', 'password', '*.password', 'redis', '*.redis', 'secret', '*.secret',
  'headers.authorization', 'headers.cookie', 'headers["set-cookie"]', 'headers["proxy-authorization"]',
  'req.headers.authorization', 'req.headers.cookie',
];

export interface LoggerOptions {
  readonly level?: string;
  /** Write synchronously (tests, CLI commands that exit right away). */
  readonly sync?: boolean;
  readonly destination?: number | string;
}

/** Creates the process logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = pino.destination({ dest: options.destination ?? 1, sync: options.sync ?? false, minLength: options.sync ? 0 : 4096 });
  return pino({
    level: options.level ?? 'info',
    base: { pid: process.pid },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination);
}
