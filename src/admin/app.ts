/**
 * The admin listener (SPEC §7): a separate fastify app on its own port, never the traffic listener.
 * Open: /healthz, /readyz, /metrics and the status page. Everything under /api/ needs the bearer token
 * of `admin.token` (read live, so a reload can rotate it); without a configured token /api/ answers 403.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { RuntimeConfig } from '../config/runtime.ts';
import type { GeoLookup } from '../geo/types.ts';
import type { Logger } from '../log/logger.ts';
import type { SwitchyardMetrics } from '../metrics/metrics.ts';
import type { TrafficSeries } from '../metrics/traffic-series.ts';
import type { ClusterBreakers } from '../breakers/cluster-breakers.ts';
import type { FleetState } from '../state/fleet.ts';
import type { SpoolRouteStatus } from '../spool/webhook-spool.ts';
import type { ReloadResult } from '../server.ts';
import { AdminAuth } from './auth.ts';
import { sendAdminError } from './reply.ts';
import { registerConfigRoutes } from './routes-config.ts';
import { registerExplainRoute } from './routes-explain.ts';
import { registerFleetRoutes } from './routes-fleet.ts';
import { registerStatusRoutes } from './routes-status.ts';

/** What the admin listener reads and acts on; a Switchyard process provides it. */
export interface AdminDeps {
  readonly instanceId: string;
  /** False while draining for shutdown. */
  readonly ready: boolean;
  readonly runtime: RuntimeConfig;
  readonly logger: Logger;
  readonly geo: GeoLookup;
  readonly fleet: FleetState;
  readonly breakers: ClusterBreakers;
  readonly metrics: SwitchyardMetrics;
  readonly trafficSeries: TrafficSeries;
  readonly webhooks: { status(): SpoolRouteStatus[] };
  reload(): Promise<ReloadResult>;
}

/** Routes served without the token; every other route needs it (secure by default). */
const openRoutes: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/']);

/**
 * By the matched route, not the raw URL, because the router decodes `%61pi` into `api`; unmatched
 * `/api/` paths still ask for the token, so probing them reveals nothing.
 */
function needsToken(route: string | undefined, url: string): boolean {
  return (route !== undefined && !openRoutes.has(route)) || url.startsWith('/api/');
}

/** Admin request bodies are small JSON objects. */
const bodyLimitBytes = 16 * 1024;

/** Builds the admin app; `listen` is up to the caller. */
export function buildAdminApp(deps: AdminDeps, auth = new AdminAuth()): FastifyInstance<Server> {
  const app = Fastify({
    logger: false,
    bodyLimit: bodyLimitBytes,
    genReqId: () => randomUUID(),
  }) as unknown as FastifyInstance<Server>;
  app.decorateRequest('adminFingerprint', '');
  // `curl -X DELETE -H 'content-type: application/json'` sends no body: that is no body, not an error.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!needsToken(request.routeOptions.url, request.url)) return;
    const verdict = auth.check(request.ip, request.headers.authorization, deps.runtime.config.admin.token);
    if (verdict.ok) {
      request.adminFingerprint = verdict.fingerprint;
      return;
    }
    if (verdict.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="switchyard-admin"');
    if (verdict.code === 'too_many_attempts') reply.header('retry-after', String(verdict.retryAfterSeconds));
    if (verdict.code !== 'forbidden') deps.logger.warn({ client: request.ip, method: request.method, path: request.routeOptions.url ?? 'unknown', verdict: verdict.code }, 'admin: authentication failed');
    return sendAdminError(request, reply, verdict.code);
  });
  app.setNotFoundHandler((request, reply) => sendAdminError(request, reply, 'no_route', 'no admin endpoint matches this request'));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.statusCode === 413) return sendAdminError(request, reply, 'payload_too_large');
    if (error.statusCode !== undefined && error.statusCode < 500) return sendAdminError(request, reply, 'invalid_request', error.message);
    deps.logger.error({ err: { message: error.message, stack: error.stack }, path: request.routeOptions.url }, 'admin: request failed');
    return sendAdminError(request, reply, 'internal_error');
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (!deps.ready) return reply.code(503).send({ status: 'draining' });
    return { status: 'ready', version: deps.runtime.version };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', deps.metrics.contentType).header('cache-control', 'no-store');
    return deps.metrics.scrape();
  });
  registerStatusRoutes(app, deps);
  registerExplainRoute(app, deps);
  registerFleetRoutes(app, deps);
  registerConfigRoutes(app, deps);
  return app;
}
