/**
 * The durable webhook spool (SPEC §5): appends requests of pinned routes to Redis Streams, caps the
 * memory and bytes they may take, and runs one replayer per pinned route (the lease holder delivers).
 * It has its own Redis connection, so a large append never delays the fleet state loop.
 */
import type { RuntimeConfig, RuntimeRoute } from '../config/runtime.ts';
import { createRedisClient, type RedisClient } from '../state/redis-client.ts';
import type { StateLogger } from '../state/logger.ts';
import { SpoolDelivery } from './delivery.ts';
import { entrySizeBytes, type NewSpoolEntry } from './entry.ts';
import { spoolKeys, type SpoolKeys } from './keys.ts';
import type { AppendResult, SpoolWriter } from './pinned-responder.ts';
import { RouteReplayer, type ReplayTuning } from './replayer.ts';
import { SpoolStore } from './store.ts';
import { WriteSlots } from './write-slots.ts';

/** Limits and timings of the spool; the defaults suit production, tests shorten them. */
export interface SpoolTuning extends ReplayTuning {
  /** Webhooks read into memory and written to Redis at once; their bodies are what the spool holds in memory. */
  readonly writeSlots: number;
  readonly slotWaitMs: number;
  readonly commandTimeoutMs: number;
  /** Largest body spooled for a route without `maxBodyBytes`. */
  readonly defaultEntryMaxBytes: number;
  /** How long close() lets a delivery in flight finish. */
  readonly stopWaitMs: number;
}

export const defaultSpoolTuning: SpoolTuning = Object.freeze({
  writeSlots: 32,
  slotWaitMs: 10_000,
  commandTimeoutMs: 2000,
  defaultEntryMaxBytes: 1024 * 1024,
  stopWaitMs: 5000,
  pollIntervalMs: 1000,
  leaseMs: 10_000,
  backoffMinMs: 250,
  backoffMaxMs: 10_000,
  // Bodies of a batch are in memory together: 8 × maxBodyBytes at most.
  batchSize: 8,
});

/** One route's spool as /api/status and the metrics show it. */
export interface SpoolRouteStatus {
  readonly route: string;
  readonly depth: number;
  /** Age of the oldest entry, seconds; null when empty. */
  readonly oldestAgeSeconds: number | null;
  readonly bytes: number;
  readonly maxBytes: number;
  readonly deadLetters: number;
  /** Instance delivering this route's spool, if any. */
  readonly replayer: string | null;
  /** Entries this instance delivered since it started. */
  readonly deliveredHere: number;
}

export interface WebhookSpoolOptions {
  /** `state.redis` (never logged). */
  readonly url: string;
  readonly keyPrefix: string;
  readonly instanceId: string;
  readonly logger: StateLogger;
  runtime(): RuntimeConfig;
  /** Whether a route's pinned cluster may take traffic now (fleet view and breakers). */
  available(route: RuntimeRoute): boolean;
  readonly tuning?: Partial<SpoolTuning>;
}

const connectTimeoutMs = 2000;
const maxBackoffMs = 2000;
const disconnectTimeoutMs = 200;

/** Spool writer and replayers of one instance. */
export class WebhookSpool implements SpoolWriter {
  readonly slots: WriteSlots;
  readonly slotWaitMs: number;
  readonly tuning: SpoolTuning;
  private readonly options: WebhookSpoolOptions;
  private readonly client: RedisClient;
  private readonly store: SpoolStore;
  private readonly delivery = new SpoolDelivery();
  private readonly replayers = new Map<string, RouteReplayer>();
  private started = false;

  constructor(options: WebhookSpoolOptions) {
    this.options = options;
    this.tuning = { ...defaultSpoolTuning, ...options.tuning };
    this.slots = new WriteSlots(this.tuning.writeSlots);
    this.slotWaitMs = this.tuning.slotWaitMs;
    this.client = createRedisClient(options.url, {
      commandTimeoutMs: this.tuning.commandTimeoutMs, connectTimeoutMs, maxBackoffMs, disconnectTimeoutMs,
    }, options.logger);
    this.store = new SpoolStore(this.client);
  }

  /** Connects (waiting at most `timeoutMs`; Redis being down delays nothing) and starts the replayers. */
  async start(timeoutMs = connectTimeoutMs): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // A failed first attempt rejects, but the client keeps reconnecting in the background.
    await Promise.race([this.client.connect().catch(() => {}), new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); })]);
    clearTimeout(timer);
    this.started = true;
    this.apply();
  }

  /** Follows a config reload: a replayer for each pinned route, none for removed ones. */
  apply(): void {
    if (!this.started) return;
    const names = new Set(this.options.runtime().routes.filter((r) => r.pin !== undefined).map((r) => r.name));
    for (const [name, replayer] of this.replayers) {
      if (names.has(name)) continue;
      this.replayers.delete(name);
      void replayer.stop(this.tuning.stopWaitMs, true);
    }
    for (const name of names) {
      if (this.replayers.has(name)) continue;
      const replayer = new RouteReplayer(name, {
        store: this.store, delivery: this.delivery, instanceId: this.options.instanceId, logger: this.options.logger,
        tuning: this.tuning, keys: (route) => this.keys(route), available: (route) => this.options.available(route),
        route: () => this.options.runtime().routesByName.get(name),
      });
      this.replayers.set(name, replayer);
      replayer.start();
    }
  }

  entryLimitBytes(route: RuntimeRoute): number {
    return route.config.maxBodyBytes ?? this.tuning.defaultEntryMaxBytes;
  }

  /** Appends one request; `full` past the route's `spool.maxBytes`. Rejects when Redis cannot be reached. */
  async append(route: RuntimeRoute, entry: NewSpoolEntry): Promise<AppendResult> {
    const maxBytes = route.config.spool?.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const sizeBytes = entrySizeBytes(entry);
    const id = await this.store.append(this.keys(route.name), entry, sizeBytes, maxBytes);
    return id === undefined ? { kind: 'full' } : { kind: 'spooled', id };
  }

  /** Per pinned route, as last read from Redis (refreshed every pollIntervalMs). */
  status(nowMs = Date.now()): SpoolRouteStatus[] {
    const runtime = this.options.runtime();
    return [...this.replayers.values()].map((r) => {
      const stats = r.stats;
      const oldest = stats?.oldestArrivedAtMs;
      return {
        route: r.name, depth: stats?.depth ?? 0, bytes: stats?.bytes ?? 0, deadLetters: stats?.deadLetters ?? 0,
        oldestAgeSeconds: oldest === undefined ? null : Math.max(0, (nowMs - oldest) / 1000),
        maxBytes: runtime.routesByName.get(r.name)?.config.spool?.maxBytes ?? 0,
        replayer: stats?.replayer ?? null, deliveredHere: r.delivered,
      };
    });
  }

  /** Stops the replayers (handing their leases over), then closes the connections. */
  async close(): Promise<void> {
    this.started = false;
    await Promise.all([...this.replayers.values()].map((r) => r.stop(this.tuning.stopWaitMs, true)));
    this.replayers.clear();
    await this.delivery.close();
    this.client.disconnect();
  }

  private keys(route: string): SpoolKeys {
    return spoolKeys(this.options.runtime().config.state.keyPrefix, route);
  }
}
