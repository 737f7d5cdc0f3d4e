/**
 * The logger shape the state and health loops need: pino-compatible, so the process logger can be
 * passed as is; silent by default so library use and tests stay quiet.
 */

/** A pino-style logger: a context object first, then the message. */
export interface StateLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Discards everything. */
export const silentLogger: StateLogger = Object.freeze({ info() {}, warn() {}, error() {} });
