/**
 * The verdict of one endpoint from consecutive probe results (Envoy's healthy/unhealthy thresholds):
 * it turns healthy after `healthyThreshold` successes in a row and unhealthy after `unhealthyThreshold`
 * failures in a row. Until the first threshold is reached there is no verdict (undefined).
 */

/** Consecutive-result counter of one endpoint. */
export class ThresholdVerdict {
  healthy: boolean | undefined = undefined;
  private successes = 0;
  private failures = 0;

  /** Records one probe result; returns true when the verdict changed. */
  record(ok: boolean, healthyThreshold: number, unhealthyThreshold: number): boolean {
    const before = this.healthy;
    if (ok) {
      this.successes++;
      this.failures = 0;
      if (this.successes >= healthyThreshold) this.healthy = true;
    } else {
      this.failures++;
      this.successes = 0;
      if (this.failures >= unhealthyThreshold) this.healthy = false;
    }
    return this.healthy !== before;
  }

  /** Forgets everything: the endpoint is no longer probed here, so this instance has no opinion. */
  reset(): void {
    this.healthy = undefined;
    this.successes = 0;
    this.failures = 0;
  }
}
