/**
 * The messages between the supervisor (node:cluster primary) and its workers, over the IPC channel
 * cluster sets up (JSON). Requests carry an id and are answered by one `reply` with the same id;
 * the rest are one-way. Every type is prefixed, so other users of the channel (prom-client's cluster
 * helper, cluster's own internal messages) are never mistaken for ours.
 */
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.ts';
import type { FleetControls } from './fleet-controls.ts';

/** A registry's metrics as `getMetricsAsJSON()` returns them (what AggregatorRegistry.aggregate takes). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** An admin request as the supervisor authenticated it, for the worker's own admin app to answer. */
export interface RelayedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** The admin client's address, so the worker's audit lines name who acted. */
  readonly remoteAddress: string;
}

/** The worker's answer to a relayed request. */
export interface RelayedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Requests the supervisor sends, by type: what the message carries and what the reply's value is. */
export interface WorkerRequests {
  /** Apply a config the supervisor validated (reload). */
  'switchyard:apply-config': { payload: { config: Config; file: string }; reply: { version: string } };
  /** Answer an admin request with the worker's admin app. */
  'switchyard:admin-request': { payload: { request: RelayedRequest }; reply: RelayedResponse };
  /** This worker's metrics, unaggregated. */
  'switchyard:metrics': { payload: Record<string, never>; reply: MetricsJson };
}

export type WorkerRequestType = keyof WorkerRequests;

/** A request as sent. */
export type WorkerRequest = { [K in WorkerRequestType]: { type: K; id: number } & WorkerRequests[K]['payload'] }[WorkerRequestType];

/** The first message a worker gets, once it said it booted: what to run. */
export interface StartMessage {
  readonly type: 'switchyard:start';
  readonly config: Config;
  readonly file: string;
  /** This worker's fleet instance id: stable per slot, so a restarted worker replaces its own Redis key. */
  readonly instanceId: string;
  /** Drains and dial overrides to restore before serving (in-memory state store only). */
  readonly controls: FleetControls;
}

/** Drain and exit (SPEC §8 shutdown sequence, in every worker at once). */
export interface ShutdownMessage {
  readonly type: 'switchyard:shutdown';
  /** The signal the supervisor got, for the worker's shutdown log lines. */
  readonly signal: string;
}

/** Everything a worker receives. */
export type ToWorker = StartMessage | ShutdownMessage | WorkerRequest;

/** Everything a supervisor receives. */
export type FromWorker =
  | { readonly type: 'switchyard:booted' }
  | { readonly type: 'switchyard:ready'; readonly trafficPort: number; readonly version: string }
  | { readonly type: 'switchyard:reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'switchyard:reply'; readonly id: number; readonly ok: false; readonly error: string };

/** Whether an IPC message is one of ours (cluster and libraries share the channel). */
export function isSwitchyardMessage(message: unknown): message is { type: string } {
  return typeof message === 'object' && message !== null
    && typeof (message as { type?: unknown }).type === 'string' && (message as { type: string }).type.startsWith('switchyard:');
}
