/**
 * Everything a process needs for pinned webhooks whose cluster is unavailable (SPEC §2.4, §5): the
 * gateway's hook (`handle`), the spool when Redis is configured, and its status. Without Redis such
 * webhooks are refused (503 + Retry-After) and logged; with it, routes with `spool.enabled` spool them.
 */
import type { RuntimeConfig, RuntimeRoute } from '../config/runtime.ts';
import { ineligibleReasons, isPanic, standingOf } from '../decision/eligibility.ts';
import type { PinnedUnavailableHandler } from '../proxy/gateway.ts';
import type { StateLogger } from '../state/logger.ts';
import type { BreakerView, FleetSnapshot } from '../state/snapshot.ts';
import { PinnedResponder } from './pinned-responder.ts';
import { WebhookSpool, type SpoolRouteStatus, type SpoolTuning } from './webhook-spool.ts';

export interface PinnedWebhooksOptions {
  /** The config requests start on now (the gateway's current one). */
  runtime(): RuntimeConfig;
  readonly instanceId: string;
  readonly logger: StateLogger;
  snapshot(): FleetSnapshot;
  readonly breakers: BreakerView;
  /** A pinned webhook was refused with 503: `switchyard_pinned_unavailable_total{route}`. */
  readonly onPinnedUnavailable?: (route: string) => void;
  /** A pinned webhook was spooled (202): `switchyard_spooled_total`. */
  readonly onSpooled?: (route: string) => void;
  readonly tuning?: Partial<SpoolTuning>;
}

/** The pinned-webhook fallback of one process. */
export class PinnedWebhooks {
  /** The spool; undefined without `state.redis`. */
  readonly spool: WebhookSpool | undefined;
  /** GatewayDeps.pinnedUnavailable. */
  readonly handle: PinnedUnavailableHandler;

  constructor(options: PinnedWebhooksOptions) {
    const { state } = options.runtime().config;
    this.spool = state.redis === '' ? undefined : new WebhookSpool({
      url: state.redis, keyPrefix: state.keyPrefix, instanceId: options.instanceId, logger: options.logger,
      runtime: options.runtime, tuning: options.tuning,
      available: (route) => pinnedClusterAvailable(route, options.runtime(), options.snapshot(), options.breakers, Date.now()),
    });
    this.handle = new PinnedResponder({
      logger: options.logger, spool: this.spool, onPinnedUnavailable: options.onPinnedUnavailable, onSpooled: options.onSpooled,
    }).handle;
  }

  /** Connects the spool and starts its replayers. */
  async start(): Promise<void> {
    await this.spool?.start();
  }

  /** After a config reload: replayers follow the pinned routes. */
  apply(): void {
    this.spool?.apply();
  }

  /** Spool depth, oldest age, bytes and replayer per pinned route (empty without Redis). */
  status(): SpoolRouteStatus[] {
    return this.spool?.status() ?? [];
  }

  /** Stops the replayers, handing their leases to the rest of the fleet. */
  async close(): Promise<void> {
    await this.spool?.close();
  }
}

/** The pinned cluster by the same rules as the decision (SPEC §4): drained or breaker open blocks it, health alone does not. */
export function pinnedClusterAvailable(route: RuntimeRoute, runtime: RuntimeConfig, snapshot: FleetSnapshot,
  breakers: BreakerView, nowMs: number): boolean {
  if (route.pin === undefined) return false;
  const standing = standingOf(route.pin, snapshot, breakers, runtime.config.scoring, nowMs);
  return ineligibleReasons(standing, isPanic([standing]), true).length === 0;
}
