/**
 * Active health checks (SPEC §4, §6): each endpoint is probed every `healthCheck.intervalMs` (±10%
 * jitter, so a fleet does not probe in lockstep) by the `probers` live instances that rendezvous
 * hashing picks; this instance runs only its share. Timers are unref'd and probes run off the request
 * path; the verdicts are read by the fleet loop once per cycle.
 */
import type { Agent } from 'undici';
import type { ClusterConfig } from '../config/schema.ts';
import { silentLogger, type StateLogger } from '../state/logger.ts';
import { createProbeAgent, probeOnce, type ProbeResult } from './probe.ts';
import { rendezvousOwners } from './rendezvous.ts';
import { ThresholdVerdict } from './threshold.ts';

export interface HealthCheckerOptions {
  readonly instanceId: string;
  readonly logger?: StateLogger;
  /** Jitter source (tests make it deterministic). */
  readonly random?: () => number;
}

/** This instance's health opinion of one cluster, as published in its report. */
export interface HealthOpinion {
  /** Absent when this instance probes none of the cluster's endpoints or has no verdict yet. */
  readonly healthy?: boolean;
  /** Verdicts of the endpoints it probes, by endpoint URL. */
  readonly endpoints: Record<string, boolean>;
}

/** Probe state of one endpoint, for the status page. */
export interface EndpointProbeStatus {
  readonly endpoint: string;
  readonly probedHere: boolean;
  readonly healthy: boolean | undefined;
  readonly lastProbe?: ProbeResult & { readonly atMs: number };
}

type HealthCheck = ClusterConfig['healthCheck'];

interface Target {
  readonly cluster: string;
  readonly endpoint: string;
  readonly verdict: ThresholdVerdict;
  check: HealthCheck;
  probeUrl: string;
  assigned: boolean;
  timer?: NodeJS.Timeout;
  abort?: AbortController;
  lastProbe?: ProbeResult & { readonly atMs: number };
}

const jitterShare = 0.1;

/** Runs this instance's share of the fleet's active health checks. */
export class HealthChecker {
  private readonly instanceId: string;
  private readonly logger: StateLogger;
  private readonly random: () => number;
  private targets = new Map<string, readonly Target[]>();
  private members: readonly string[];
  private agent: Agent | undefined;

  constructor(options: HealthCheckerOptions) {
    this.instanceId = options.instanceId;
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.members = [options.instanceId];
  }

  /** Applies the clusters' endpoints and checks; endpoints that stay keep their verdicts. */
  configure(clusters: Readonly<Record<string, ClusterConfig>>): void {
    const previous = new Map<string, Target>();
    for (const list of this.targets.values()) for (const t of list) previous.set(targetKey(t.cluster, t.endpoint), t);
    const next = new Map<string, readonly Target[]>();
    for (const [cluster, config] of Object.entries(clusters)) {
      next.set(cluster, config.endpoints.map((endpoint) => {
        const key = targetKey(cluster, endpoint);
        const target = previous.get(key) ?? { cluster, endpoint, verdict: new ThresholdVerdict(), assigned: false } as Target;
        previous.delete(key);
        target.check = config.healthCheck;
        target.probeUrl = new URL(config.healthCheck.path, endpoint).href;
        return target;
      }));
    }
    for (const gone of previous.values()) this.unassign(gone);
    this.targets = next;
    this.plan();
  }

  /** Sets the live fleet members (this instance is always one); re-plans when they changed. */
  setMembers(ids: readonly string[]): void {
    const members = [...new Set([...ids, this.instanceId])].sort();
    if (members.length === this.members.length && members.every((m, i) => m === this.members[i])) return;
    this.members = members;
    this.plan();
  }

  /** Starts probing this instance's share. */
  start(): void {
    if (this.agent !== undefined) return;
    this.agent = createProbeAgent();
    for (const list of this.targets.values()) for (const t of list) if (t.assigned) this.schedule(t, this.random() * t.check.intervalMs * jitterShare);
  }

  /** Cancels every timer and in-flight probe. */
  async stop(): Promise<void> {
    const agent = this.agent;
    this.agent = undefined;
    for (const list of this.targets.values()) for (const t of list) cancel(t);
    await agent?.destroy();
  }

  /** This instance's opinion of a cluster. */
  opinion(cluster: string): HealthOpinion {
    const endpoints: Record<string, boolean> = {};
    let probed = 0;
    let known = 0;
    let anyHealthy = false;
    for (const t of this.targets.get(cluster) ?? []) {
      if (!t.assigned) continue;
      probed++;
      if (t.verdict.healthy === undefined) continue;
      known++;
      endpoints[t.endpoint] = t.verdict.healthy;
      anyHealthy ||= t.verdict.healthy;
    }
    if (anyHealthy) return { healthy: true, endpoints };
    return probed > 0 && known === probed ? { healthy: false, endpoints } : { endpoints };
  }

  /** Probe state of every endpoint of a cluster, in config order. */
  status(cluster: string): EndpointProbeStatus[] {
    return (this.targets.get(cluster) ?? []).map((t) => ({
      endpoint: t.endpoint, probedHere: t.assigned, healthy: t.verdict.healthy,
      ...(t.lastProbe === undefined ? {} : { lastProbe: t.lastProbe }),
    }));
  }

  private plan(): void {
    for (const list of this.targets.values()) {
      for (const t of list) {
        const mine = rendezvousOwners(targetKey(t.cluster, t.endpoint), this.members, t.check.probers).includes(this.instanceId);
        if (mine && !t.assigned) {
          t.assigned = true;
          if (this.agent !== undefined) this.schedule(t, this.random() * t.check.intervalMs * jitterShare);
        } else if (!mine && t.assigned) {
          this.unassign(t);
        }
      }
    }
  }

  private unassign(t: Target): void {
    cancel(t);
    t.assigned = false;
    t.verdict.reset();
    t.lastProbe = undefined;
  }

  private schedule(t: Target, delayMs: number): void {
    clearTimeout(t.timer);
    t.timer = setTimeout(() => void this.probe(t), delayMs).unref();
  }

  private async probe(t: Target): Promise<void> {
    const agent = this.agent;
    if (agent === undefined || !t.assigned) return;
    const abort = new AbortController();
    t.abort = abort;
    const result = await probeOnce(agent, t.probeUrl, this.instanceId, t.check.timeoutMs, abort.signal);
    if (abort.signal.aborted || !t.assigned) return; // stopped or re-planned meanwhile: the result is not ours to count
    t.abort = undefined;
    t.lastProbe = { ...result, atMs: Date.now() };
    if (t.verdict.record(result.ok, t.check.healthyThreshold, t.check.unhealthyThreshold)) {
      this.logger.info({ cluster: t.cluster, endpoint: t.endpoint, healthy: t.verdict.healthy, status: result.status, error: result.error },
        'endpoint health changed');
    }
    const jitter = 1 - jitterShare + 2 * jitterShare * this.random();
    this.schedule(t, t.check.intervalMs * jitter);
  }
}

function cancel(t: Target): void {
  clearTimeout(t.timer);
  t.timer = undefined;
  t.abort?.abort();
  t.abort = undefined;
}

function targetKey(cluster: string, endpoint: string): string {
  return `${cluster} ${endpoint}`;
}
