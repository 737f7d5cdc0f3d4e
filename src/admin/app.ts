/**
 * The admin listener (SPEC §7): a separate fastify app on its own port, never the traffic listener.
 * Open: /healthz, /readyz, /metrics and the status page. Everything under /api/ needs the bearer token
 * of `admin.token` (read live, so a reload can rotate it); without a configured token /api/ answers 403
 * (shell.ts). In a worker of a multi-process gateway the app never listens: its supervisor relays
 * requests to it (src/workers/).
 */
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
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
import { createAdminShell } from './shell.ts';
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

/** Builds the admin app of a single process; `listen` is up to the caller. */
export function buildAdminApp(deps: AdminDeps, auth = new AdminAuth()): FastifyInstance<Server> {
  const app = createAdminShell({ logger: deps.logger, adminToken: () => deps.runtime.config.admin.token }, auth);
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
