/**
 * The traffic path, phase by phase (SPEC §2): client address → geo → decision → forward → respond →
 * observe. Holds the current runtime config by one reference; a reload swaps it and requests already
 * in flight keep the generation they started with.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { RuntimeConfig, RuntimeRoute } from '../config/runtime.ts';
import { decideForRoute, type Decision, type DecisionRequest } from '../decision/decide.ts';
import { matchRoute } from '../decision/match.ts';
import { affinityKey, newClientIdFor, readAffinity } from '../standby/affinity.ts';
import { OverflowTracker } from '../standby/overflow.ts';
import type { ErrorCode } from '../errors.ts';
import type { GeoInfo, GeoLookup } from '../geo/types.ts';
import { resolveClientAddress, type TrustedProxies } from '../ingress/client-address.ts';
import type { BreakerView, FleetSnapshot } from '../state/snapshot.ts';
import { RetryBudget } from '../breakers/retry-budget.ts';
import { EndpointCursor } from './endpoints.ts';
import { Exchange, type ExchangeAffinity, type ExchangeDeps } from './exchange.ts';
import { isSaneRequestId, upstreamRequestHeaders } from './headers.ts';
import { PoolRegistry } from './pools.ts';
import { sendError, statusSent, tagResponse } from './respond.ts';
import type { UpstreamSignals } from './signals.ts';

/** What the gateway reads from the rest of the process; all synchronous. */
export interface GatewayDeps {
  readonly geo: GeoLookup;
  snapshot(): FleetSnapshot;
  readonly breakers: BreakerView;
  readonly signals: UpstreamSignals;
  /** Sees every request once it is done: forwarded, rejected or broken (metrics, access log). */
  readonly observer: RequestObserver;
  /**
   * Answers webhooks of pinned routes whose cluster is unavailable (SPEC §2.4, §5): spools them or
   * refuses them with a log line an SRE can reconcile; without it the gateway answers a plain 503.
   */
  readonly pinnedUnavailable?: PinnedUnavailableHandler;
}

/**
 * A request of a pinned route that its cluster cannot take: found unavailable by the decision, or every
 * endpoint refused the connection before anything was written. Its body has not been read yet.
 */
export interface PinnedUnavailable {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: RuntimeRoute;
  readonly requestId: string;
  /** Why: the decision's reasons (`drained`, `breaker_open`, comma-joined) or `endpoints_refused`. */
  readonly reason: string;
  /** The headers the pinned cluster would have received, forwarding headers included (flat name/value pairs). */
  readonly upstreamHeaders: readonly string[];
}

/**
 * Answers a PinnedUnavailable request (202 spooled, 503, 413) and resolves once the answer is written,
 * with the gateway error code answered, or undefined when the request was spooled. Never rejects.
 */
export type PinnedUnavailableHandler = (request: PinnedUnavailable) => Promise<ErrorCode | undefined>;

/** A finished request as metrics and the access log see it. */
export interface RequestRecord {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly route: string | undefined;
  readonly cluster: string | undefined;
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly clientIp: string;
  readonly geo: GeoInfo | undefined;
  readonly durationMs: number;
  readonly upstreamMs: number | undefined;
  readonly retries: number;
  readonly attempts: number;
  readonly bytesOut: number;
  readonly decisionReason: string;
  readonly panic: boolean;
}

export interface RequestObserver {
  requestEnded(record: RequestRecord, exchange: Exchange | undefined): void;
}

/** The proxy: one instance per process, reconfigured in place on reload. */
export class Gateway implements ExchangeDeps {
  readonly pools = new PoolRegistry();
  readonly cursor = new EndpointCursor();
  readonly signals: UpstreamSignals;
  readonly breakers: BreakerView;
  readonly pinnedUnavailable: PinnedUnavailableHandler | undefined;
  inflight = 0;
  private runtime!: RuntimeConfig;
  private budgets = new Map<string, RetryBudget>();
  private affinityKeys: (Buffer | undefined)[] = [];
  private readonly overflow = new OverflowTracker();
  private readonly deps: GatewayDeps;

  constructor(runtime: RuntimeConfig, deps: GatewayDeps) {
    this.deps = deps;
    this.signals = deps.signals;
    this.breakers = deps.breakers;
    this.pinnedUnavailable = deps.pinnedUnavailable;
    this.apply(runtime);
  }

  /** Swaps in a new runtime config; pools and budgets of unchanged clusters and routes carry over. */
  apply(runtime: RuntimeConfig): void {
    this.pools.sync(runtime);
    this.cursor.reset(runtime.clusters.length);
    const budgets = new Map<string, RetryBudget>();
    for (const route of runtime.routes) {
      const kept = this.budgets.get(route.name);
      const percent = route.config.retry.budgetPercent;
      budgets.set(route.name, kept !== undefined && kept.percent === percent ? kept : new RetryBudget(percent));
    }
    this.budgets = budgets;
    this.affinityKeys = runtime.routes.map((r) => (r.config.affinity === undefined ? undefined : affinityKey(runtime.config, r)));
    this.runtime = runtime;
  }

  current(): RuntimeConfig {
    return this.runtime;
  }

  retryBudget(route: RuntimeRoute): RetryBudget {
    let budget = this.budgets.get(route.name);
    if (budget === undefined) this.budgets.set(route.name, budget = new RetryBudget(route.config.retry.budgetPercent));
    return budget;
  }

  /** Entry point for every traffic request. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const runtime = this.runtime;
    const requestId = isSaneRequestId(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
    // A client error later on this connection (a body cut by requestTimeoutMs) is answered with it.
    tagResponse(res, requestId);
    const startedAt = performance.now();
    const peer = normalisePeer(req.socket.remoteAddress);
    const trusted: TrustedProxies = runtime.trustedProxies;
    // Once per request: both the client address and the forwarding headers depend on it.
    const peerTrusted = trusted.has(peer);
    const clientIp = resolveClientAddress(peer, req.headers['x-forwarded-for'], trusted, peerTrusted);
    if (this.inflight >= runtime.config.limits.maxInflight) {
      sendError(res, { code: 'overloaded', requestId, retryAfterSeconds: 1 });
      return this.observeLocal(req, res, requestId, clientIp, undefined, startedAt, 'overloaded', undefined);
    }
    const geo = this.deps.geo.lookup(clientIp);
    const snapshot = this.deps.snapshot();
    const nowMs = Date.now();
    const request = decisionRequest(req, clientIp, geo);
    const route = matchRoute(runtime.routes, request);
    const affinity = route?.config.affinity === undefined ? undefined : this.affinityOf(req, route, clientIp, nowMs);
    if (affinity !== undefined) {
      request.clientKey = affinity.clientId;
      request.affinityCluster = affinity.cluster;
    }
    this.overflow.update(runtime, snapshot);
    const decision = decideForRoute(route, request, {
      runtime, snapshot, breakers: this.deps.breakers, nowMs, random: Math.random, overflow: this.overflow,
    });
    if (this.pinnedUnavailable !== undefined && isPinnedUnavailable(decision)) {
      const headers = upstreamRequestHeaders(req.rawHeaders, { peer, peerTrusted, requestId, geo });
      const reason = decision.candidates[0]?.reasons.join(',') || decision.reason;
      void this.pinnedUnavailable({ req, res, route: decision.route!, requestId, reason, upstreamHeaders: headers })
        .then((errorCode) => this.observeLocal(req, res, requestId, clientIp, geo, startedAt, errorCode, decision));
      return;
    }
    if (decision.action === 'reject') {
      sendError(res, { code: decision.error, requestId, route: decision.route?.name, retryAfterSeconds: decision.retryAfterSeconds,
        close: req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined });
      return this.observeLocal(req, res, requestId, clientIp, geo, startedAt, decision.error, decision);
    }
    if (decision.action === 'spool') {
      sendError(res, { code: 'pinned_cluster_unavailable', requestId, route: decision.route.name,
        retryAfterSeconds: decision.route.config.onUnavailable.retryAfterSeconds, close: true });
      return this.observeLocal(req, res, requestId, clientIp, geo, startedAt, 'pinned_cluster_unavailable', decision);
    }
    const headers = upstreamRequestHeaders(req.rawHeaders, { peer, peerTrusted, requestId, geo });
    const exchange = new Exchange(req, res, decision, { ip: clientIp, geo }, requestId, headers, snapshot, this, startedAt);
    if (affinity !== undefined) exchange.affinity = affinity;
    this.inflight++;
    exchange.start();
  }

  /**
   * The route's affinity for this client: the cookie's cluster and client id when it verifies, else a
   * client id derived from the address, so the first request and the ones carrying the cookie hash
   * to the same side of the dial.
   */
  private affinityOf(req: IncomingMessage, route: RuntimeRoute, clientIp: string, nowMs: number): ExchangeAffinity {
    const settings = route.config.affinity!;
    const key = this.affinityKeys[route.index]!;
    const cookie = readAffinity(req.headers.cookie, settings.cookie, route.name, key, nowMs);
    return {
      cookieName: settings.cookie, key, ttlSeconds: settings.ttlSeconds, routeName: route.name,
      clientId: cookie?.clientId ?? newClientIdFor(clientIp, key), cluster: cookie?.cluster,
    };
  }

  /** ExchangeDeps: an exchange finished. */
  exchangeEnded(exchange: Exchange): void {
    this.inflight--;
    const { decision, client } = exchange;
    this.deps.observer.requestEnded({
      requestId: exchange.requestId,
      method: exchange.req.method!,
      path: exchange.req.url!,
      route: exchange.route.name,
      cluster: exchange.errorCode === undefined && !exchange.spooled ? exchange.cluster.name : undefined,
      status: statusSent(exchange.res),
      errorCode: exchange.errorCode,
      clientIp: client.ip,
      geo: client.geo,
      durationMs: performance.now() - exchange.startedAt,
      upstreamMs: exchange.attempts > 0 ? exchange.upstreamMs : undefined,
      retries: exchange.retries,
      attempts: exchange.attempts,
      bytesOut: exchange.bytesOut,
      decisionReason: decision.reason,
      panic: decision.panic,
    }, exchange);
  }

  private observeLocal(req: IncomingMessage, res: ServerResponse, requestId: string, clientIp: string, geo: GeoInfo | undefined,
    startedAt: number, errorCode: string | undefined, decision: Decision | undefined): void {
    this.deps.observer.requestEnded({
      requestId, method: req.method!, path: req.url!, route: decision?.route?.name, cluster: undefined,
      status: statusSent(res), errorCode, clientIp, geo, durationMs: performance.now() - startedAt, upstreamMs: undefined,
      retries: 0, attempts: 0, bytesOut: 0, decisionReason: decision?.reason ?? errorCode ?? '', panic: decision?.panic ?? false,
    }, undefined);
  }

  /** Closes every upstream pool, waiting for in-flight requests. */
  async close(): Promise<void> {
    await this.pools.close();
  }
}

/** A pinned route's cluster is unavailable: the decision spools, or rejects with pinned_cluster_unavailable. */
function isPinnedUnavailable(decision: Decision): boolean {
  return decision.action === 'spool' || (decision.action === 'reject' && decision.error === 'pinned_cluster_unavailable');
}

/** A decision request the gateway completes once it has read the route's affinity cookie. */
type PendingDecisionRequest = { -readonly [K in keyof DecisionRequest]: DecisionRequest[K] };

function decisionRequest(req: IncomingMessage, clientIp: string, geo: GeoInfo | undefined): PendingDecisionRequest {
  return {
    method: req.method!,
    host: req.headers.host,
    path: pathOf(req.url!),
    headers: req.headers,
    clientIp,
    geo,
    clientKey: clientIp,
  };
}

/** The path without the query: routes match on paths only. */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function normalisePeer(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
