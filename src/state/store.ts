/**
 * The shared-state store behind the fleet loop (SPEC §6): Redis for a fleet, memory for a single
 * instance. The loop calls it once per cycle; a failing call rejects and the loop keeps its
 * last-known-good view, so nothing here ever runs on the request path.
 */
import type { Config } from '../config/schema.ts';
import type { DialOverride } from './snapshot.ts';
import type { ExternalReport, InstanceReport } from './report.ts';
import type { StateLogger } from './logger.ts';
import { MemoryStateStore } from './memory-store.ts';
import { RedisStateStore } from './redis-store.ts';

/** One cycle's publish-and-read request. */
export interface ExchangeRequest {
  /** This instance's view, published with `reportTtlMs`; absent for a read-only look (offline explain). */
  readonly own?: InstanceReport;
  /** Configured cluster names: their drain flags and external reports are read. */
  readonly clusters: readonly string[];
  /** Configured route names: their dial overrides are read. */
  readonly routes: readonly string[];
  readonly nowMs: number;
  /** Members that have not published for this long are not live. */
  readonly staleAfterMs: number;
  /** Lifetime of the published report and of membership entries. */
  readonly reportTtlMs: number;
}

/** A live member of the fleet, as the membership set lists it. */
export interface Member {
  readonly id: string;
  /** Its last publish time, epoch ms. */
  readonly atMs: number;
}

/** What one cycle read back. */
export interface FleetRead {
  /** Members that published within staleAfterMs, this instance included. */
  readonly members: readonly Member[];
  /** Valid reports of the other live members. */
  readonly reports: readonly InstanceReport[];
  readonly drained: ReadonlySet<string>;
  /** Unexpired dial overrides by route. */
  readonly dialOverrides: ReadonlyMap<string, DialOverride>;
  /** Reports fed by external probes, by cluster. */
  readonly external: ReadonlyMap<string, ExternalReport>;
}

/** Where the fleet's shared state lives. Methods reject when the store cannot be reached. */
export interface StateStore {
  readonly kind: 'memory' | 'redis';
  /** Connects, waiting at most `timeoutMs`; false when not (yet) connected. Never rejects. */
  connect(timeoutMs: number): Promise<boolean>;
  /** Publishes this instance's view and reads the fleet's, in as few round trips as possible. */
  exchange(request: ExchangeRequest): Promise<FleetRead>;
  setDrain(cluster: string, drained: boolean): Promise<void>;
  setDialOverride(route: string, override: DialOverride, ttlMs: number): Promise<void>;
  clearDialOverride(route: string): Promise<void>;
  /** Removes an instance's report and membership (clean shutdown). */
  removeInstance(id: string): Promise<void>;
  close(): Promise<void>;
}

/** Chooses the store from `state.redis`: empty → in memory (single instance). */
export function createStateStore(state: Config['state'], logger: StateLogger): StateStore {
  if (state.redis === '') return new MemoryStateStore();
  return new RedisStateStore({
    url: state.redis,
    keyPrefix: state.keyPrefix,
    publishIntervalMs: state.publishIntervalMs,
    logger,
  });
}
