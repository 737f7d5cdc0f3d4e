/**
 * The in-memory store: state for a single instance without Redis (SPEC §1). It keeps the same
 * semantics as Redis (report expiry, dial expiry), so several in-process instances may share one in
 * tests, and it is always up.
 */
import type { DialOverride } from './snapshot.ts';
import type { InstanceReport } from './report.ts';
import type { ExchangeRequest, FleetRead, StateStore } from './store.ts';

interface Stored<T> {
  readonly value: T;
  readonly expiresAtMs: number;
}

/** Fleet state held in this process. */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory';
  private readonly reports = new Map<string, Stored<InstanceReport>>();
  private readonly drains = new Set<string>();
  private readonly dials = new Map<string, DialOverride>();

  async connect(): Promise<boolean> {
    return true;
  }

  async exchange(request: ExchangeRequest): Promise<FleetRead> {
    const { own, nowMs } = request;
    if (own !== undefined) this.reports.set(own.id, { value: own, expiresAtMs: nowMs + request.reportTtlMs });
    const members = [];
    const reports = [];
    for (const [id, stored] of this.reports) {
      if (stored.expiresAtMs <= nowMs) {
        this.reports.delete(id);
        continue;
      }
      if (nowMs - stored.value.at > request.staleAfterMs) continue;
      members.push({ id, atMs: stored.value.at });
      if (id !== own?.id) reports.push(stored.value);
    }
    const dialOverrides = new Map<string, DialOverride>();
    for (const route of request.routes) {
      const dial = this.dials.get(route);
      if (dial !== undefined && dial.expiresAtMs > nowMs) dialOverrides.set(route, dial);
    }
    const drained = new Set(request.clusters.filter((c) => this.drains.has(c)));
    return { members, reports, drained, dialOverrides, external: new Map() };
  }

  async setDrain(cluster: string, drained: boolean): Promise<void> {
    if (drained) this.drains.add(cluster);
    else this.drains.delete(cluster);
  }

  /** The override carries its own expiry (by the caller's clock), so no TTL bookkeeping is needed here. */
  async setDialOverride(route: string, override: DialOverride): Promise<void> {
    this.dials.set(route, override);
  }

  async clearDialOverride(route: string): Promise<void> {
    this.dials.delete(route);
  }

  async removeInstance(id: string): Promise<void> {
    this.reports.delete(id);
  }

  async close(): Promise<void> {}
}
