/**
 * What the traffic listener refuses before the gateway sees a request (SPEC §9): connections over
 * `limits.maxConnections`, malformed or oversized requests, header and request timeouts, CONNECT.
 * None of them reaches the access log or `switchyard_requests_total`, so each is counted here
 * (`switchyard_listener_refusals_total{reason}`) and logged. A flood of bad clients must not flood
 * the log: the first refusal of a reason is logged at once, the rest as one line per reason per window.
 */
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';

/** Why the listener refused: `max_connections` (dropped at accept) or the error code it answered. */
export type RefusalReason = 'max_connections' | Extract<ErrorCode, 'bad_request' | 'header_too_large' | 'request_timeout' | 'method_not_allowed'>;

/** A refusal the listener answers with one of its error codes. */
export type AnsweredRefusal = Exclude<RefusalReason, 'max_connections'>;

/** Every reason, so the metric shows each one from the start (at 0). */
export const refusalReasons: readonly RefusalReason[] = ['max_connections', 'bad_request', 'header_too_large', 'request_timeout', 'method_not_allowed'];

/** Told of every refusal; synchronous and never throws into the listener. */
export interface RefusalObserver {
  refused(reason: RefusalReason): void;
}

/** Refusals of one reason are summed into one log line per this many ms. */
export const refusalLogWindowMs = 10_000;

const messages: Readonly<Record<RefusalReason, string>> = {
  max_connections: 'connection dropped at accept: limits.maxConnections reached',
  bad_request: 'request refused by the listener: malformed',
  header_too_large: 'request refused by the listener: headers over limits.maxHeaderBytes or too many header lines',
  request_timeout: 'request refused by the listener: headers or request not received within the limits',
  method_not_allowed: 'request refused by the listener: CONNECT is not served',
};

/** Counts each refusal and logs it, rate-limited per reason. */
export class RefusalReporter implements RefusalObserver {
  private readonly logger: Logger;
  private readonly count: (reason: RefusalReason) => void;
  private readonly windowMs: number;
  /** Refusals since the reason's last line; a reason is present while its window is open. */
  private readonly unlogged = new Map<RefusalReason, number>();

  constructor(logger: Logger, count: (reason: RefusalReason) => void, windowMs = refusalLogWindowMs) {
    this.logger = logger;
    this.count = count;
    this.windowMs = windowMs;
  }

  refused(reason: RefusalReason): void {
    this.count(reason);
    const unlogged = this.unlogged.get(reason);
    if (unlogged !== undefined) {
      this.unlogged.set(reason, unlogged + 1);
      return;
    }
    this.logger.warn({ reason, refused: 1 }, messages[reason]);
    this.openWindow(reason);
  }

  private openWindow(reason: RefusalReason): void {
    this.unlogged.set(reason, 0);
    setTimeout(() => this.closeWindow(reason), this.windowMs).unref();
  }

  /** Logs what the window summed; a window that saw refusals opens the next, a quiet one closes. */
  private closeWindow(reason: RefusalReason): void {
    const refused = this.unlogged.get(reason) ?? 0;
    this.unlogged.delete(reason);
    if (refused === 0) return;
    this.logger.warn({ reason, refused, windowSeconds: this.windowMs / 1000 }, messages[reason]);
    this.openWindow(reason);
  }
}
