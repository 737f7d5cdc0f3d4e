/**
 * The admin listener of a multi-process gateway (SPEC §7), run by the supervisor: the same shell as a
 * single process (auth, errors, `/healthz`), then `/readyz` and `/metrics` answered for the whole
 * process, `POST /api/reload` done here (supervised-config.ts), and every other route relayed to the
 * workers' own admin apps: reads to one worker, changes to all (relay.ts).
 */
import type { Server } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from '../log/logger.ts';
import { isLogLevel } from '../log/logger.ts';
import type { ReloadResult } from '../server.ts';
import { createAdminShell } from '../admin/shell.ts';
import { audit, sendAdminError } from '../admin/reply.ts';
import type { WorkerChannel } from './channel.ts';
import type { FleetControlLog } from './fleet-controls.ts';
import { askWorkers, relayedRequestOf, sendAgreed, sendRelayed } from './relay.ts';
import type { WorkerState } from './supervisor.ts';

/** What the supervisor's admin app reads and acts on. */
export interface SupervisorAdminDeps {
  readonly logger: Logger;
  adminToken(): string;
  /** The config version in force. */
  version(): string;
  /** False once shutdown began. */
  accepting(): boolean;
  allWorkersReady(): boolean;
  workerStates(): Record<WorkerState, number>;
  /** Workers that answer admin requests, by slot. */
  servingWorkers(): WorkerChannel[];
  scrape(): Promise<string>;
  readonly metricsContentType: string;
  reload(): Promise<ReloadResult>;
  readonly controls: FleetControlLog;
}

interface NameParams {
  name: string;
}

/** A route relayed to the workers, and what the supervisor remembers once a worker accepted it. */
interface RelayedRoute {
  readonly method: 'GET' | 'PUT' | 'DELETE';
  readonly url: string;
  /** `one`: a read, answered by the first serving worker; `every`: a change, made in every worker. */
  readonly to: 'one' | 'every';
  accepted?(request: FastifyRequest, deps: SupervisorAdminDeps): void;
}

/** Every worker admin route but the ones the supervisor answers itself (a test keeps the two lists equal). */
export const relayedRoutes: readonly RelayedRoute[] = [
  { method: 'GET', url: '/', to: 'one' },
  { method: 'GET', url: '/api/status', to: 'one' },
  { method: 'GET', url: '/api/explain', to: 'one' },
  {
    method: 'PUT', url: '/api/clusters/:name/drain', to: 'every',
    accepted: (request, deps) => deps.controls.drain((request.params as NameParams).name, (request.body as { drained: boolean }).drained),
  },
  {
    method: 'PUT', url: '/api/routes/:name/dial', to: 'every',
    accepted: (request, deps) => {
      const { percent, ttlSeconds } = request.body as { percent: number; ttlSeconds: number };
      deps.controls.dial((request.params as NameParams).name, percent, ttlSeconds, Date.now());
    },
  },
  { method: 'DELETE', url: '/api/routes/:name/dial', to: 'every', accepted: (request, deps) => deps.controls.clearDial((request.params as NameParams).name) },
  {
    method: 'PUT', url: '/api/log/level', to: 'every',
    accepted: (request, deps) => {
      const level = (request.body as { level?: unknown }).level;
      if (isLogLevel(level)) deps.logger.level = level;
    },
  },
];

/** Routes the supervisor answers itself. */
export const supervisorRoutes: readonly string[] = ['/healthz', '/readyz', '/metrics', '/api/reload'];

/** Builds the supervisor's admin app; `listen` is up to the caller. */
export function buildSupervisorAdminApp(deps: SupervisorAdminDeps): FastifyInstance<Server> {
  const app = createAdminShell({ logger: deps.logger, adminToken: deps.adminToken });
  app.get('/readyz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    const workers = deps.workerStates();
    if (!deps.accepting()) return reply.code(503).send({ status: 'draining', workers });
    if (!deps.allWorkersReady()) return reply.code(503).send({ status: 'starting', workers });
    return { status: 'ready', version: deps.version(), workers };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', deps.metricsContentType).header('cache-control', 'no-store');
    return deps.scrape();
  });
  app.post('/api/reload', async (request, reply) => {
    const result = await deps.reload();
    reply.header('cache-control', 'no-store');
    if (!result.ok) {
      audit(deps.logger, request, 'reload rejected', { issues: result.issues.length });
      return sendAdminError(request, reply, 'invalid_config', undefined, { issues: result.issues });
    }
    audit(deps.logger, request, 'reload', { version: result.version, changed: result.changed });
    return { version: result.version, changed: result.changed };
  });
  for (const route of relayedRoutes) {
    app.route({
      method: route.method, url: route.url,
      handler: async (request, reply) => {
        const serving = deps.servingWorkers();
        const answers = await askWorkers(route.to === 'one' ? serving.slice(0, 1) : serving, relayedRequestOf(request));
        if (route.to === 'one') {
          const answer = answers[0];
          if (answer !== undefined && 'response' in answer) return sendRelayed(reply, answer.response);
          return sendAdminError(request, reply, 'workers_unavailable', answer?.error);
        }
        if (answers.some((answer) => 'response' in answer && answer.response.status < 300)) route.accepted?.(request, deps);
        return sendAgreed(request, reply, answers, deps.logger);
      },
    });
  }
  return app;
}
