/**
 * Retry budget (SPEC §2.6, Envoy's retry budgets): retries may not exceed `budgetPercent` of requests
 * over a sliding window, so a brown-out is not amplified by the gateway's own retries. Counted in
 * one-second buckets; O(1) per request.
 */

const bucketCount = 10;
const bucketMs = 1000;

/** One route's budget. */
export class RetryBudget {
  private readonly requests = new Float64Array(bucketCount);
  private readonly retries = new Float64Array(bucketCount);
  private currentBucket = 0;
  private currentStartMs = 0;
  private readonly percent: number;
  /** Retries allowed regardless of the ratio, so a quiet route can still retry at all. */
  private readonly minRetries: number;

  constructor(percent: number, minRetries = 3) {
    this.percent = percent;
    this.minRetries = minRetries;
  }

  /** Counts a request (not a retry). */
  recordRequest(nowMs: number): void {
    this.advance(nowMs);
    this.requests[this.currentBucket]++;
  }

  /** Takes one retry from the budget when it allows one. */
  tryAcquire(nowMs: number): boolean {
    this.advance(nowMs);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < bucketCount; i++) {
      requests += this.requests[i];
      retries += this.retries[i];
    }
    if (retries >= this.minRetries && (retries + 1) > (requests * this.percent) / 100) return false;
    this.retries[this.currentBucket]++;
    return true;
  }

  private advance(nowMs: number): void {
    if (nowMs - this.currentStartMs < bucketMs) return;
    const steps = Math.min(bucketCount, Math.floor((nowMs - this.currentStartMs) / bucketMs));
    for (let s = 0; s < steps; s++) {
      this.currentBucket = (this.currentBucket + 1) % bucketCount;
      this.requests[this.currentBucket] = 0;
      this.retries[this.currentBucket] = 0;
    }
    this.currentStartMs = nowMs - ((nowMs - this.currentStartMs) % bucketMs);
  }
}
