/**
 * Retry budget (SPEC §2.6, Envoy's retry budgets): over a sliding 10-second window, retries may not
 * exceed `budgetPercent` of requests (20% by default), so that a brown-out is not amplified by the
 * gateway's own retries. A quiet route may still take `minRetries` retries per window regardless of
 * the ratio (Envoy's min_retry_concurrency serves the same purpose), so a single failing request is
 * not refused its retry just because traffic is low. `budgetPercent: 0` means no retries at all.
 *
 * Bound: in any window, retries ≤ max(minRetries, floor(requests × budgetPercent / 100)); over a burst
 * shorter than the window, attempts ≤ requests × (1 + budgetPercent / 100) + minRetries.
 *
 * Counted in one-second buckets with running totals: O(1) per request and per retry.
 */

const bucketCount = 10;
const bucketMs = 1000;

/** Retries allowed per window whatever the ratio (Envoy's default min_retry_concurrency). */
export const defaultMinRetries = 3;

/** One route's budget. */
export class RetryBudget {
  /** The route's `retry.budgetPercent` this budget was built with. */
  readonly percent: number;
  private readonly minRetries: number;
  private readonly requests = new Float64Array(bucketCount);
  private readonly retries = new Float64Array(bucketCount);
  private requestTotal = 0;
  private retryTotal = 0;
  private currentBucket = 0;
  private currentStartMs = 0;

  constructor(percent: number, minRetries = defaultMinRetries) {
    this.percent = percent;
    this.minRetries = percent > 0 ? minRetries : 0;
  }

  /** Counts a request (not a retry). */
  recordRequest(nowMs: number): void {
    this.advance(nowMs);
    this.requests[this.currentBucket]++;
    this.requestTotal++;
  }

  /** Takes one retry from the budget when it allows one. */
  tryAcquire(nowMs: number): boolean {
    this.advance(nowMs);
    const allowed = this.retryTotal < this.minRetries || (this.retryTotal + 1) * 100 <= this.requestTotal * this.percent;
    if (!allowed) return false;
    this.retries[this.currentBucket]++;
    this.retryTotal++;
    return true;
  }

  /** Moves the window to nowMs, dropping buckets that fell out of it. */
  private advance(nowMs: number): void {
    const elapsed = nowMs - this.currentStartMs;
    // A clock that stepped back keeps counting in the current bucket until it catches up.
    if (elapsed < bucketMs) return;
    const steps = Math.min(bucketCount, Math.floor(elapsed / bucketMs));
    for (let s = 0; s < steps; s++) {
      this.currentBucket = (this.currentBucket + 1) % bucketCount;
      this.requestTotal -= this.requests[this.currentBucket];
      this.retryTotal -= this.retries[this.currentBucket];
      this.requests[this.currentBucket] = 0;
      this.retries[this.currentBucket] = 0;
    }
    this.currentStartMs = nowMs - (elapsed % bucketMs);
  }
}
