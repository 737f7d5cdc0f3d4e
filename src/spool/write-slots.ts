/**
 * Caps how many webhooks are being spooled at once. Each one holds its body in memory until Redis has
 * it, so the cap times the route's body cap bounds the spool's memory during a burst. Waiters are served
 * in arrival order; one that waits too long is refused (503 spool_full) instead of queueing forever.
 */

/** A FIFO counting semaphore with a bounded wait. */
export class WriteSlots {
  private free: number;
  private readonly waiters: Array<(granted: boolean) => void> = [];

  constructor(slots: number) {
    this.free = slots;
  }

  /** Resolves true with a slot (call `release()` later), or false after `waitMs` without one. */
  acquire(waitMs: number): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter = (granted: boolean) => {
        clearTimeout(timer);
        resolve(granted);
      };
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at !== -1) this.waiters.splice(at, 1);
        resolve(false);
      }, waitMs);
      this.waiters.push(waiter);
    });
  }

  /** Returns a slot; the longest waiter gets it. */
  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next(true);
    else this.free++;
  }

  /** Slots in use plus waiters: how busy spooling is. */
  get waiting(): number {
    return this.waiters.length;
  }
}
