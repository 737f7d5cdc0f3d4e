/**
 * One cluster's circuit breaker on this instance (SPEC §2.6, §4): an opossum CircuitBreaker fed with
 * the outcomes the proxy reports. The proxy streams and never calls through opossum, so each outcome,
 * already known, is replayed through `fire()` as a settled promise: opossum's own rules (volume
 * threshold, error percentage, reset timeout, half-open trial) decide every transition. Successes on
 * a closed breaker, the common case, only need counting: see countClosedSuccess.
 */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { ClusterConfig } from '../config/schema.ts';
import type { AttemptOutcome } from '../proxy/signals.ts';
import type { BreakerState } from '../state/snapshot.ts';

/** A cluster's `breaker` config block. */
export type BreakerConfig = ClusterConfig['breaker'];

/** What /api/status shows of one breaker. */
export interface BreakerStatus {
  /** Lifecycle state; a half-open breaker whose trial is in flight is still 'half-open' here. */
  readonly state: BreakerState;
  readonly trialInFlight: boolean;
  /** When the breaker entered `state` (epoch ms); 0 if it never changed state. */
  readonly sinceMs: number;
  /** Attempts and failures counted in the rolling window. */
  readonly windowAttempts: number;
  readonly windowFailures: number;
}

/** opossum 10 accepts a prior `state` (its README, "Initializing state"); @types/opossum 8 lacks it. */
type OpossumOptions = CircuitBreaker.Options<[boolean]> & { state?: CircuitBreaker.State };

/** opossum's default bucket count: the rolling window rotates every rollingWindowMs / 10. */
const windowBuckets = 10;

// Settled once per process; opossum chains its own handlers onto them for every replayed outcome.
const succeeded: Promise<void> = Promise.resolve();
const failed: Promise<void> = Promise.reject(new Error('upstream attempt failed'));
failed.catch(ignore);

function replay(attemptFailed: boolean): Promise<void> {
  return attemptFailed ? failed : succeeded;
}

function ignore(): void {}

/**
 * A success on a closed breaker, counted without `fire()`: it can change no state (only failures open
 * a closed breaker), and opossum counts it from the same two events `fire()` would emit, minus the
 * promise chain (in-process, an attempt's start and end took about 580 ns through `fire()`, 300 ns
 * without). Failures and half-open trials still go through `fire()`, where opossum's rules decide.
 */
function countClosedSuccess(breaker: CircuitBreaker<[boolean], void>): void {
  breaker.emit('fire', [false]);
  breaker.emit('success', undefined, 0);
}

/** The breaker of one cluster; `state()` is what decisions read. */
export class ClusterBreaker {
  readonly name: string;
  readonly config: BreakerConfig;
  private readonly breaker: CircuitBreaker<[boolean], void>;
  /** Rotates opossum's rolling window; ours so that a close can start from a clean window. */
  private readonly buckets = new EventEmitter();
  private readonly rotation: NodeJS.Timeout;
  /** A trial lost for this long (an attempt that never reported its end) frees the half-open slot. */
  private readonly trialTimeoutMs: number;
  private trialEndpoint = -1;
  private trialDeadlineMs = 0;
  private lifecycle: BreakerState;
  private sinceMs = 0;

  /** `previous`: the breaker this one replaces after a reload changed its settings; its state carries. */
  constructor(name: string, config: BreakerConfig, trialTimeoutMs: number, onChange: (state: BreakerState) => void,
    previous?: ClusterBreaker) {
    this.name = name;
    this.config = config;
    this.trialTimeoutMs = trialTimeoutMs;
    const options: OpossumOptions = {
      name,
      timeout: false, // the proxy has its own connect, headers and total timeouts
      errorThresholdPercentage: config.errorThresholdPercentage,
      volumeThreshold: config.volumeThreshold,
      resetTimeout: config.resetTimeoutMs,
      rollingCountTimeout: config.rollingWindowMs,
      rollingCountBuckets: windowBuckets,
      rotateBucketController: this.buckets,
      rollingPercentilesEnabled: false, // latency is observed elsewhere; spares a sort per failure
      enableSnapshots: false,
      state: previous?.breaker.toJSON().state,
    };
    this.breaker = new CircuitBreaker(replay, options);
    this.rotation = setInterval(rotate, config.rollingWindowMs / windowBuckets, this.buckets).unref();
    this.lifecycle = this.breaker.closed ? 'closed' : this.breaker.halfOpen ? 'half-open' : 'open';
    if (previous !== undefined) this.carryTrial(previous);
    this.breaker.on('open', () => this.entered('open', onChange));
    this.breaker.on('halfOpen', () => this.entered('half-open', onChange));
    this.breaker.on('close', () => {
      // Failures that opened the breaker must not re-open it on the first failure after recovery.
      for (let i = 0; i < windowBuckets; i++) this.buckets.emit('rotate');
      this.entered('closed', onChange);
    });
  }

  /**
   * What decisions read: 'half-open' only while the trial slot is free, so exactly one request goes
   * to a half-open cluster; while that trial is in flight (or being settled) the cluster reads 'open'.
   */
  state(): BreakerState {
    const b = this.breaker;
    if (b.closed) return 'closed';
    if (!b.halfOpen || !b.pendingClose) return 'open';
    if (this.trialEndpoint === -1) return 'half-open';
    if (Date.now() < this.trialDeadlineMs) return 'open';
    this.trialEndpoint = -1;
    return 'half-open';
  }

  /** An attempt starts; on a half-open breaker with a free slot it becomes the trial. */
  attemptStarted(endpoint: number): void {
    if (this.trialEndpoint !== -1 || !this.breaker.halfOpen || !this.breaker.pendingClose) return;
    this.trialEndpoint = endpoint;
    this.trialDeadlineMs = Date.now() + this.trialTimeoutMs;
  }

  /**
   * An attempt ended. Closed: counted. Half-open: only the trial counts (success closes, failure
   * re-opens). Open: nothing counts (attempts that started before it opened). Cancelled never counts;
   * a cancelled trial frees the slot for another one.
   */
  attemptEnded(endpoint: number, outcome: AttemptOutcome): void {
    const trial = endpoint === this.trialEndpoint;
    if (trial) this.trialEndpoint = -1;
    if (outcome === 'cancelled') return;
    if (this.breaker.closed && outcome === 'success') return countClosedSuccess(this.breaker);
    if (this.breaker.closed || (trial && this.breaker.halfOpen)) {
      this.breaker.fire(outcome === 'failure').catch(ignore);
    }
  }

  /** Lifecycle state and window counts, for status pages. */
  status(): BreakerStatus {
    const stats = this.breaker.stats;
    return {
      state: this.lifecycle,
      trialInFlight: this.trialEndpoint !== -1,
      sinceMs: this.sinceMs,
      windowAttempts: stats.successes + stats.failures,
      windowFailures: stats.failures,
    };
  }

  /** Whether `config` would build this same breaker. */
  sameConfig(config: BreakerConfig): boolean {
    const c = this.config;
    return c.errorThresholdPercentage === config.errorThresholdPercentage && c.volumeThreshold === config.volumeThreshold
      && c.resetTimeoutMs === config.resetTimeoutMs && c.rollingWindowMs === config.rollingWindowMs;
  }

  /** Stops the window rotation and the reset timer. */
  shutdown(): void {
    clearInterval(this.rotation);
    this.breaker.shutdown();
  }

  private entered(state: BreakerState, onChange: (state: BreakerState) => void): void {
    this.lifecycle = state;
    this.sinceMs = Date.now();
    onChange(state);
  }

  private carryTrial(previous: ClusterBreaker): void {
    this.sinceMs = previous.sinceMs;
    this.trialEndpoint = previous.trialEndpoint;
    this.trialDeadlineMs = previous.trialDeadlineMs;
  }
}

function rotate(buckets: EventEmitter): void {
  buckets.emit('rotate');
}
