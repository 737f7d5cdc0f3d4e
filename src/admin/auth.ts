/**
 * Bearer-token authentication of the admin API (SPEC §7, §9). Tokens are compared in constant time:
 * both sides are hashed with SHA-256 first, so `timingSafeEqual` always compares equal lengths and
 * the comparison reveals neither the token nor its length. Failed attempts are limited per client
 * address, so guessing a token is slow.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthVerdict =
  | { ok: true; fingerprint: string }
  | { ok: false; code: 'forbidden' | 'unauthorized' }
  | { ok: false; code: 'too_many_attempts'; retryAfterSeconds: number };

export interface FailureLimit {
  /** Failed attempts allowed per client address within `windowMs`. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Addresses tracked at most (memory bound under a spray of source addresses). */
  readonly maxClients: number;
}

export const defaultFailureLimit: FailureLimit = Object.freeze({ maxFailures: 10, windowMs: 60_000, maxClients: 10_000 });

/** SHA-256 of a token. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A short, non-reversible name for a token, for audit logs: who acted, never the token itself. */
export function tokenFingerprint(token: string): string {
  return `sha256:${digest(`switchyard-admin:${token}`).toString('hex').slice(0, 12)}`;
}

/** Whether `presented` equals `expected`, in constant time. */
export function tokensMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match === null ? undefined : match[1];
}

/** Checks admin API requests against the configured token, limiting failures per client address. */
export class AdminAuth {
  private readonly limit: FailureLimit;
  private readonly nowMs: () => number;
  /** Per client address: when its current window started and how many failures it holds. */
  private readonly failures = new Map<string, { startMs: number; count: number }>();

  constructor(limit: FailureLimit = defaultFailureLimit, nowMs: () => number = Date.now) {
    this.limit = limit;
    this.nowMs = nowMs;
  }

  /** Verdict for a request from `client` carrying `authorization`, with `configured` as the token. */
  check(client: string, authorization: string | undefined, configured: string): AuthVerdict {
    if (configured === '') return { ok: false, code: 'forbidden' };
    const blocked = this.blockedForSeconds(client);
    if (blocked > 0) return { ok: false, code: 'too_many_attempts', retryAfterSeconds: blocked };
    const presented = bearerToken(authorization);
    if (presented !== undefined && tokensMatch(presented, configured)) return { ok: true, fingerprint: tokenFingerprint(presented) };
    this.recordFailure(client);
    return { ok: false, code: 'unauthorized' };
  }

  /** Seconds until `client` may try again; 0 when it may now. */
  private blockedForSeconds(client: string): number {
    const entry = this.failures.get(client);
    if (entry === undefined) return 0;
    const elapsedMs = this.nowMs() - entry.startMs;
    if (elapsedMs >= this.limit.windowMs) {
      this.failures.delete(client);
      return 0;
    }
    return entry.count >= this.limit.maxFailures ? Math.ceil((this.limit.windowMs - elapsedMs) / 1000) : 0;
  }

  private recordFailure(client: string): void {
    const entry = this.failures.get(client);
    if (entry !== undefined) {
      entry.count++;
      return;
    }
    if (this.failures.size >= this.limit.maxClients) this.evictExpired();
    // Still full: the oldest entry goes (Map keeps insertion order), so memory stays bounded.
    if (this.failures.size >= this.limit.maxClients) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(client, { startMs: this.nowMs(), count: 1 });
  }

  private evictExpired(): void {
    const nowMs = this.nowMs();
    for (const [client, entry] of this.failures) if (nowMs - entry.startMs >= this.limit.windowMs) this.failures.delete(client);
  }
}
