/**
 * What instances publish and what external feeders may write (SPEC §6): the documented value formats,
 * validated with zod when read back, because anything under the prefix may have been written by
 * something else. An invalid value is ignored with one log line (until it changes), never a crash.
 */
import { z } from 'zod';
import type { BreakerState, DialOverride } from './snapshot.ts';
import type { StateLogger } from './logger.ts';

/** Format version of an instance report: readers ignore versions they do not know. */
export const reportVersion = 1;

/** Generous bounds: a value past them is garbage, not an observation. */
const maxLatencyMs = 3_600_000;
const maxCount = 1e12;

const latency = z.number().finite().min(0).max(maxLatencyMs);
const count = z.number().finite().min(0).max(maxCount);

const clusterReportSchema = z.object({
  healthy: z.boolean().nullish(),
  endpoints: z.record(z.string(), z.boolean()).default({}),
  latencyMs: latency.default(0),
  p99Ms: latency.default(0),
  errorRate: z.number().finite().min(0).max(1).default(0),
  requests: count.default(0),
  inflight: count.default(0),
  breaker: z.enum(['closed', 'half-open', 'open']).default('closed'),
});

const instanceReportSchema = z.object({
  v: z.literal(reportVersion),
  id: z.string().min(1).max(256),
  at: z.number().int().nonnegative(),
  clusters: z.record(z.string(), clusterReportSchema),
});

const externalReportSchema = z.object({
  healthy: z.boolean(),
  endpoints: z.record(z.string(), z.boolean()).optional(),
  at: z.number().int().nonnegative().optional(),
  source: z.string().max(256).optional(),
});

const dialOverrideSchema = z.object({
  percent: z.number().finite().min(0).max(100),
  expiresAtMs: z.number().int().nonnegative(),
});

/** One instance's view of one cluster. `healthy` is absent when it probes none of the cluster's endpoints. */
export interface ClusterReport {
  readonly healthy?: boolean | null;
  /** Probe verdicts by endpoint URL, only for endpoints this instance probes and has a verdict on. */
  readonly endpoints: Readonly<Record<string, boolean>>;
  readonly latencyMs: number;
  readonly p99Ms: number;
  readonly errorRate: number;
  /** Requests observed in the window: the weight of this report in fleet averages. */
  readonly requests: number;
  readonly inflight: number;
  readonly breaker: BreakerState;
}

/** What one instance publishes every cycle under `instance:{id}`. */
export interface InstanceReport {
  readonly v: typeof reportVersion;
  readonly id: string;
  /** Publish time, epoch ms (publisher's clock). */
  readonly at: number;
  readonly clusters: Readonly<Record<string, ClusterReport>>;
}

/** A health report for one cluster written by an external probe or job under `external:{cluster}`. */
export type ExternalReport = z.output<typeof externalReportSchema>;

/**
 * A raw value as read: the string, null when the key is absent, undefined when it could not be read as a
 * string (wrong Redis type, already logged).
 */
export type RawValue = string | null | undefined;

/** Validates values read from the store, logging each invalid value once until it changes. */
export class ValueReader {
  private readonly logger: StateLogger;
  /** Last invalid raw value logged per key, so a persistent bad value logs once, not every cycle. */
  private readonly logged = new Map<string, string>();

  constructor(logger: StateLogger) {
    this.logger = logger;
  }

  /** An instance report, or undefined when absent or invalid. */
  instanceReport(key: string, raw: RawValue): InstanceReport | undefined {
    return this.json(key, raw, instanceReportSchema) as InstanceReport | undefined;
  }

  /** An external health report, or undefined when absent or invalid. */
  externalReport(key: string, raw: RawValue): ExternalReport | undefined {
    return this.json(key, raw, externalReportSchema);
  }

  /** A dial override, or undefined when absent or invalid. */
  dialOverride(key: string, raw: RawValue): DialOverride | undefined {
    return this.json(key, raw, dialOverrideSchema);
  }

  /** Whether a drain flag is set: `1` or `true`; anything else is logged and read as not drained. */
  drained(key: string, raw: RawValue): boolean {
    if (raw === undefined) return false;
    if (raw === null) return this.forget(key, false);
    if (raw === '1' || raw === 'true') return this.forget(key, true);
    this.invalid(key, raw, 'expected 1 or true');
    return false;
  }

  /** Logs a key that holds the wrong Redis type (the command failed with WRONGTYPE). */
  wrongType(key: string): void {
    this.invalid(key, '<wrong type>', 'key holds the wrong Redis type');
  }

  private json<S extends z.ZodType>(key: string, raw: RawValue, schema: S): z.output<S> | undefined {
    if (raw === undefined) return undefined;
    if (raw === null) return this.forget(key, undefined);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      this.invalid(key, raw, 'not JSON');
      return undefined;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return this.forget(key, parsed.data);
    this.invalid(key, raw, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    return undefined;
  }

  private invalid(key: string, raw: string, reason: string): void {
    if (this.logged.get(key) === raw) return;
    this.logged.set(key, raw);
    this.logger.warn({ key, reason }, 'invalid value in the state store ignored');
  }

  private forget<T>(key: string, result: T): T {
    if (this.logged.size > 0) this.logged.delete(key);
    return result;
  }
}
